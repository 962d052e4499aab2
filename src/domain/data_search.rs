//! Finding events by what is inside them: `data.<path>=<value>` conditions (query parameters of
//! `GET /api/v1/events`, or `path = value` in the dashboard's search box), all of which must
//! hold. A value reads as the webhook filter's values do: a JSON number or `true`/`false` is that
//! number or boolean, a value in double quotes is a JSON string, anything else is the text
//! itself. Matching is the filter's too (`delivery_options::Filter`): the path descends through
//! objects only, numbers compare by value, strings and booleans exactly.

use serde_json::{Map, Value};

use super::Invalid;
use super::delivery_options::{Filter, FilterRule};

/// At most this many conditions in one search (the same bound as a webhook filter's paths).
pub const MAX_CONDITIONS: usize = 20;

/// The conditions of one search, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSearch(Filter);

impl DataSearch {
    /// From `(dotted path, value as typed)` pairs; `None` when there are none. A refusal names
    /// `data.<path>`.
    pub fn parse(conditions: &[(String, String)]) -> Result<Option<Self>, Invalid> {
        if conditions.is_empty() {
            return Ok(None);
        }
        if conditions.len() > MAX_CONDITIONS {
            return Err(Invalid::field(
                "data",
                format!(
                    "at most {MAX_CONDITIONS} data.<path> conditions, not {}",
                    conditions.len()
                ),
            ));
        }
        let mut rules = Vec::with_capacity(conditions.len());
        for (path, text) in conditions {
            let field = format!("data.{path}");
            let value = typed_value(text)
                .map_err(|e| Invalid::field(&field, e))?
                .ok_or_else(|| Invalid::field(&field, "must have a value"))?;
            rules.push(FilterRule::parse_as(
                field,
                path,
                &Value::Array(vec![value]),
            )?);
        }
        Ok(Some(Self(Filter::all_of(rules))))
    }

    /// Whether an event with this `data` matches every condition.
    pub fn matches(&self, data: &Value) -> bool {
        self.0.matches(data)
    }

    /// One document that an event's `data` contains (PostgreSQL's `@>`) exactly when every
    /// condition holds; `None` when the conditions contradict each other (one path given two
    /// values, or a value where another condition descends further), so nothing can match.
    pub fn containment(&self) -> Option<Value> {
        let mut root = Map::new();
        for rule in self.0.rules() {
            let value = rule.values.first()?.clone();
            let segments: Vec<&str> = rule.path.split('.').collect();
            let (leaf, parents) = segments.split_last()?;
            let mut node = &mut root;
            for segment in parents {
                let child = node
                    .entry(segment.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                node = child.as_object_mut()?;
            }
            match node.get(*leaf) {
                None => {
                    node.insert(leaf.to_string(), value);
                }
                Some(existing) if *existing == value => {}
                Some(_) => return None,
            }
        }
        Some(Value::Object(root))
    }
}

/// One value as typed: a JSON number or boolean, a quoted JSON string, or else the text itself
/// (spaces around it trimmed); `None` when nothing is left.
pub fn typed_value(text: &str) -> Result<Option<Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text)
            .map(|s| Some(Value::String(s)))
            .map_err(|_| format!("{text} is not a quoted value like \"a, b\""));
    }
    Ok(Some(match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Number(_) | Value::Bool(_))) => value,
        _ => Value::String(text.to_owned()),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(pairs: &[(&str, &str)]) -> DataSearch {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect();
        DataSearch::parse(&owned).unwrap().unwrap()
    }

    #[test]
    fn values_read_as_numbers_booleans_or_text() {
        let data = json!({"agent_id": "agent_7", "turns": 12, "ok": true, "code": "42",
            "metadata": {"language": "en"}});
        assert!(search(&[("agent_id", "agent_7")]).matches(&data));
        assert!(search(&[("turns", "12"), ("ok", "true")]).matches(&data));
        assert!(
            search(&[("turns", "12.0")]).matches(&data),
            "numbers by value"
        );
        assert!(
            !search(&[("code", "42")]).matches(&data),
            "42 is a number, not the text"
        );
        assert!(
            search(&[("code", "\"42\"")]).matches(&data),
            "quoted: the text"
        );
        assert!(search(&[("metadata.language", " en ")]).matches(&data));
        assert!(
            !search(&[("agent_id", "agent_7"), ("turns", "3")]).matches(&data),
            "ANDed"
        );
        assert!(!search(&[("missing", "x")]).matches(&data));
    }

    #[test]
    fn bad_conditions_name_their_parameter() {
        let refused = |path: &str, value: &str| {
            DataSearch::parse(&[(path.to_string(), value.to_string())]).unwrap_err()
        };
        assert_eq!(refused("a..b", "1").field, "data.a..b");
        assert_eq!(refused("agent_id", "").field, "data.agent_id");
        assert_eq!(refused("agent_id", "\"open").field, "data.agent_id");
        let many: Vec<(String, String)> = (0..21).map(|i| (format!("p{i}"), "1".into())).collect();
        assert_eq!(DataSearch::parse(&many).unwrap_err().field, "data");
        assert_eq!(DataSearch::parse(&[]).unwrap(), None);
    }

    #[test]
    fn conditions_merge_into_one_containment_document() {
        let merged = search(&[
            ("metadata.language", "en"),
            ("metadata.turns", "3"),
            ("ok", "true"),
        ]);
        assert_eq!(
            merged.containment(),
            Some(json!({"metadata": {"language": "en", "turns": 3}, "ok": true}))
        );
        assert_eq!(
            search(&[("a", "1"), ("a.b", "2")]).containment(),
            None,
            "a is 1, not an object"
        );
        assert_eq!(search(&[("a.b", "2"), ("a", "1")]).containment(), None);
    }
}
