//! The chat endpoint's proof of work: before a socket may queue, it finds a nonce such that
//! SHA-256 of `prefix ":" nonce` starts with a number of zero bits (16 by default: about 65,000
//! hashes, a few milliseconds for one client, a real cost for someone opening thousands).

use sha2::{Digest, Sha256};

/// Leading zero bits of `digest`.
fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether `nonce` solves the challenge `prefix` at `bits`.
pub fn verify(prefix: &str, nonce: &str, bits: u8) -> bool {
    let mut hasher = Sha256::new();
    hasher.update(prefix.as_bytes());
    hasher.update(b":");
    hasher.update(nonce.as_bytes());
    leading_zero_bits(&hasher.finalize()) >= u32::from(bits)
}

/// Finds a nonce for the challenge (decimal digits), trying at most `max_tries`.
pub fn solve(prefix: &str, bits: u8, max_tries: u64) -> Option<String> {
    // The prefix is hashed once; each try only adds the nonce.
    let mut base = Sha256::new();
    base.update(prefix.as_bytes());
    base.update(b":");
    let mut digits = itoa_buffer();
    (0..max_tries).find_map(|n| {
        let text = write_decimal(&mut digits, n);
        let mut h = base.clone();
        h.update(text.as_bytes());
        (leading_zero_bits(&h.finalize()) >= u32::from(bits)).then(|| text.to_string())
    })
}

fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

fn write_decimal(buf: &mut [u8; 20], mut n: u64) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_nonce_verifies_and_others_mostly_do_not() {
        let nonce = solve("abc", 12, 1 << 24).unwrap();
        assert!(verify("abc", &nonce, 12));
        // With 16 bits, about one nonce in 65,536 verifies: of the first thousand, almost none.
        let hits = (0..1000)
            .filter(|n| verify("abc", &n.to_string(), 16))
            .count();
        assert!(hits <= 2, "{hits}");
        assert!(verify("abc", "anything", 0));
    }

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x10]), 19);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn decimal_digits() {
        let mut b = itoa_buffer();
        assert_eq!(write_decimal(&mut b, 0), "0");
        assert_eq!(write_decimal(&mut b, 1234567890), "1234567890");
        assert_eq!(write_decimal(&mut b, u64::MAX), u64::MAX.to_string());
    }
}
