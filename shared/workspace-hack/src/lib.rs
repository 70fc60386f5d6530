//! Intentionally empty: see this crate's `Cargo.toml`. It exists only so that the demo's build
//! (`cargo build -p billwatch-cli -p report-ingest`) and the tests' (`cargo test --workspace`)
//! enable the same features of shared dependencies, and therefore share their compiled
//! artifacts in `target/`.
