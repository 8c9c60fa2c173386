//! `Offset`: an absolute position in the byte stream that went through a ring.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An absolute position in the stream of bytes written to a ring.
///
/// Offset `0` is the first byte ever written; [`Writer::head`](crate::Writer::head) is the
/// offset one past the last. Offsets never wrap around the ring: the ring maps them to its
/// buffer internally, so a client of the daemon can hold one for as long as it likes and the ring
/// tells it, with [`Lagged`](crate::Lagged), when the bytes it points at are gone.
///
/// A `u64` does not overflow in practice: at 10 GB/s it lasts 58 years.
///
/// ```
/// use tsm_scrollback::Offset;
///
/// let a = Offset(10);
/// let b = a + 5;
/// assert_eq!(b, Offset(15));
/// assert_eq!(b - a, 5); // distance in bytes
/// assert_eq!(a.saturating_sub(20), Offset::ZERO);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub u64);

impl Offset {
    /// The offset of the first byte ever written.
    pub const ZERO: Offset = Offset(0);

    /// The offset as a plain number of bytes since the start of the stream.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The offset `n` bytes earlier, or [`Offset::ZERO`] if that would be before the start.
    #[must_use]
    pub const fn saturating_sub(self, n: u64) -> Offset {
        Offset(self.0.saturating_sub(n))
    }

    /// The number of bytes from `earlier` to `self`, or `None` if `earlier` is after `self`.
    pub const fn checked_distance_from(self, earlier: Offset) -> Option<u64> {
        self.0.checked_sub(earlier.0)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for Offset {
    fn from(n: u64) -> Offset {
        Offset(n)
    }
}

impl From<Offset> for u64 {
    fn from(o: Offset) -> u64 {
        o.0
    }
}

/// Moves an offset forward by a number of bytes.
impl Add<u64> for Offset {
    type Output = Offset;

    fn add(self, n: u64) -> Offset {
        Offset(self.0 + n)
    }
}

/// Moves an offset forward by a number of bytes.
impl AddAssign<u64> for Offset {
    fn add_assign(&mut self, n: u64) {
        self.0 += n;
    }
}

/// The number of bytes between two offsets (`later - earlier`).
///
/// Overflows (panics in debug builds) if the right-hand side is the later one; use
/// [`Offset::checked_distance_from`] when that can happen.
impl Sub for Offset {
    type Output = u64;

    fn sub(self, earlier: Offset) -> u64 {
        self.0 - earlier.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_add_and_measure_distances_in_bytes() {
        let mut o = Offset::ZERO;
        o += 7;
        assert_eq!(o, Offset(7));
        assert_eq!(o + 3, Offset(10));
        assert_eq!(Offset(10) - o, 3);
        assert_eq!(Offset(10).checked_distance_from(o), Some(3));
        assert_eq!(o.checked_distance_from(Offset(10)), None);
    }

    #[test]
    fn saturating_sub_stops_at_the_start_of_the_stream() {
        assert_eq!(Offset(5).saturating_sub(3), Offset(2));
        assert_eq!(Offset(5).saturating_sub(9), Offset::ZERO);
    }

    #[test]
    fn offsets_order_and_convert_like_their_number() {
        assert!(Offset(1) < Offset(2));
        assert_eq!(u64::from(Offset::from(42)), 42);
        assert_eq!(Offset(42).get(), 42);
        assert_eq!(Offset(42).to_string(), "42");
    }
}
