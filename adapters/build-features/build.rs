// Present only so that the build-dependencies (the proc-macro side's features) take part
// in resolution and building; see Cargo.toml.
fn main() {}
