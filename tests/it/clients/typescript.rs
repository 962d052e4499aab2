//! The TypeScript client's own suite (clients/typescript/test: the shared vectors, the retry
//! rules, and the journey against the service), after compiling it with the pinned `tsc`.

use super::{Live, npm};

#[tokio::test]
async fn the_typescript_client_works_against_the_service_and_a_retried_emit_stores_one_event() {
    let live = Live::start().await;
    live.run("TypeScript client", npm(&["test", "--silent"]))
        .await;
}
