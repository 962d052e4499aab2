-- The W3C `traceparent` the platform sent with an event, passed on to every delivery of it.
ALTER TABLE events ADD COLUMN traceparent TEXT;
