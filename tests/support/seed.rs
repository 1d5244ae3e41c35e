//! Seeded randomness: every random choice a test makes can be replayed.

/// The seed of a test's randomness: `TEST_SEED` when set (to replay a failure), else a fresh one.
/// Printed either way, so the output of a failed run says how to repeat it.
pub fn test_seed(what: &str) -> u64 {
    let seed = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("{what}: random seed {seed} (repeat with TEST_SEED={seed})");
    seed
}

/// A random generator seeded by [`test_seed`].
pub fn seeded_rng(what: &str) -> rand::rngs::StdRng {
    rand::SeedableRng::seed_from_u64(test_seed(what))
}
