//! Payload codecs. Every decoder is bounded (input size, output size, nesting depth) and total:
//! it returns a value or an `Undecodable` marker, never panics, never executes anything.
