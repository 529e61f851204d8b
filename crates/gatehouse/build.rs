//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the migrations folder,
//! and cargo would otherwise only notice changes to the Rust sources.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
