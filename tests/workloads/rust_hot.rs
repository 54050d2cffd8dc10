// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//! rust_hot - Rust at -O without frame pointers: main -> workload::run ->
//! workload::Burner::burn (3 parts) and workload::light (1 part).
//!
//! usage: rust_hot [SECONDS]
use std::time::{Duration, Instant};

/// keeps a value alive without the optimizer seeing through it (Rust 1.63
/// has no stable black_box)
fn opaque(x: u64) -> u64 {
    let mut v = x;
    unsafe { std::ptr::write_volatile(&mut v, x) };
    unsafe { std::ptr::read_volatile(&v) }
}

mod workload {
    use super::opaque as black_box;

    pub struct Burner {
        pub seed: u64,
    }

    impl Burner {
        #[inline(never)]
        pub fn burn(&mut self, n: u64) -> u64 {
            let mut x = self.seed;
            for _ in 0..n {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            self.seed = x;
            x
        }
    }

    #[inline(never)]
    pub fn light(n: u64) -> u64 {
        let mut x = 7u64;
        for _ in 0..n {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(3));
        }
        x
    }

    #[inline(never)]
    pub fn run(b: &mut Burner) -> u64 {
        b.burn(30000) ^ light(10000)
    }
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut b = workload::Burner { seed: 1 };
    let mut sink = 0u64;
    while Instant::now() < end {
        sink ^= workload::run(&mut b);
    }
    opaque(sink);
}
