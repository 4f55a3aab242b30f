//! Bitmaps: 64 bits each, bit 1 (the most significant) announcing the next one.

/// Up to three bitmaps (fields 1 to 192), bit `n` for field `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bitmap([u64; 3]);

impl Bitmap {
    /// An empty bitmap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether bit `n` (1-based) is set.
    pub fn is_set(&self, n: u16) -> bool {
        let (word, bit) = Self::place(n);
        self.0.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Sets bit `n` (1-based); numbers outside 1..=192 are ignored.
    pub fn set(&mut self, n: u16) {
        let (word, bit) = Self::place(n);
        if let Some(w) = self.0.get_mut(word) {
            *w |= bit;
        }
    }

    /// The 64-bit word of bitmap `index` (0 primary, 1 secondary, 2 tertiary).
    pub fn word(&self, index: usize) -> u64 {
        self.0.get(index).copied().unwrap_or(0)
    }

    pub(crate) fn set_word(&mut self, index: usize, value: u64) {
        if let Some(w) = self.0.get_mut(index) {
            *w = value;
        }
    }

    fn place(n: u16) -> (usize, u64) {
        if n == 0 || n > 192 {
            return (usize::MAX, 0);
        }
        let i = usize::from(n - 1);
        (i / 64, 1u64 << (63 - (i % 64)))
    }

    /// Uppercase hex of the bitmaps in use (16 digits each; the tertiary one when it has bits).
    pub fn to_hex(&self) -> String {
        let mut out = format!("{:016X}", self.word(0));
        if self.is_set(1) {
            out.push_str(&format!("{:016X}", self.word(1)));
            if self.word(2) != 0 {
                out.push_str(&format!("{:016X}", self.word(2)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut b = Bitmap::new();
        b.set(1);
        b.set(2);
        b.set(90);
        b.set(0);
        b.set(193);
        assert!(b.is_set(2) && b.is_set(90) && !b.is_set(3));
        assert_eq!(b.word(0), 0xC000_0000_0000_0000);
        assert_eq!(b.to_hex(), "C0000000000000000000004000000000");
    }
}
