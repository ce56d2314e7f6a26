//! The built-in policy library (`policies/`) is embedded in the binary: rebuild when it changes.

fn main() {
    println!("cargo:rerun-if-changed=policies");
}
