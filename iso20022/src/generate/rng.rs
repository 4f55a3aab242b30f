//! splitmix64 (Steele, Lea and Flood, 2014): a tiny, fast, well-mixed deterministic generator.
//! Not for secrets; for test data that must be the same bytes for the same seed everywhere.

pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream keyed by several numbers (seed, statement, entry), each mixed in turn.
    pub(crate) fn keyed(keys: &[u64]) -> SplitMix64 {
        let mut state = 0x243F_6A88_85A3_08D3u64;
        for k in keys {
            state = SplitMix64(state ^ k).next_u64();
        }
        SplitMix64(state)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; the slight modulo bias is fine for test data).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
