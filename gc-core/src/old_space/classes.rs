//! Size classes of the old generation's small-object pages, and what rounding to them costs.
//!
//! An object of `size` bytes (a multiple of 8, at least 16) takes a slot of the smallest class
//! that holds it; a page of class `c` holds `PAGE_SIZE / c` slots and wastes the remainder. The
//! heap limit needs the worst case of both roundings: promoting `b` bytes of nursery objects can
//! take up to `b × EXPANSION` bytes of whole pages, plus one partly filled page per class
//! ([`worst_case_pages`]).

use super::PAGE_SIZE;

/// Slot sizes of the old generation's small-object pages, in bytes.
pub const SIZE_CLASSES: [u32; 35] = [
    16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
    896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
];
/// The largest object a small-object slot holds.
pub(crate) const MAX_SMALL: usize = SIZE_CLASSES[SIZE_CLASSES.len() - 1] as usize;
/// Number of size classes.
pub(crate) const CLASSES: usize = SIZE_CLASSES.len();

/// `CLASS_OF[(size + 7) / 8]` is the smallest class that holds `size` bytes.
const CLASS_OF: [u8; MAX_SMALL / 8 + 1] = {
    let mut table = [0u8; MAX_SMALL / 8 + 1];
    let mut words = 0;
    let mut class = 0;
    while words < table.len() {
        while (SIZE_CLASSES[class] as usize) < words * 8 {
            class += 1;
        }
        table[words] = class as u8;
        words += 1;
    }
    table
};

/// The class of an object of `size` bytes (at most [`MAX_SMALL`]).
#[inline(always)]
pub(crate) const fn class_of(size: usize) -> usize {
    CLASS_OF[size.div_ceil(8)] as usize
}

/// Slots of class `class` in one page.
pub(crate) const fn slots_per_page(class: usize) -> usize {
    PAGE_SIZE / SIZE_CLASSES[class] as usize
}

/// Fixed-point scale of [`EXPANSION`].
pub(crate) const EXPANSION_SCALE: usize = 1 << 16;

/// The most page bytes one byte of object can take, times [`EXPANSION_SCALE`], rounded up:
/// the maximum over every object size `s` (16 to [`MAX_SMALL`], multiples of 8) of
/// `(PAGE_SIZE / slots_per_page(class_of(s))) / s`. About 1.33 (a 6,152-byte object in a
/// 7,168-byte slot, four to a page).
pub(crate) const EXPANSION: usize = {
    let mut worst = 0;
    let mut size = 16;
    while size <= MAX_SMALL {
        let class = CLASS_OF[size / 8] as usize;
        let per_object = PAGE_SIZE * EXPANSION_SCALE / slots_per_page(class);
        let ratio = per_object.div_ceil(size);
        if ratio > worst {
            worst = ratio;
        }
        size += 8;
    }
    worst
};

/// The most pages that promoting `bytes` of small objects can fill: whole pages at the worst
/// expansion, plus one partly filled page per class. Zero bytes need no page.
pub(crate) fn worst_case_pages(bytes: usize) -> usize {
    if bytes == 0 {
        return 0;
    }
    let page_bytes = (bytes as u128 * EXPANSION as u128).div_ceil(EXPANSION_SCALE as u128);
    page_bytes.div_ceil(PAGE_SIZE as u128) as usize + CLASSES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_table_picks_the_smallest_fitting_class() {
        for size in 1..=MAX_SMALL {
            let class = class_of(size);
            assert!(SIZE_CLASSES[class] as usize >= size);
            if class > 0 {
                assert!((SIZE_CLASSES[class - 1] as usize) < size);
            }
        }
    }

    #[test]
    fn the_worst_expansion_bounds_every_size() {
        let expansion = EXPANSION as f64 / EXPANSION_SCALE as f64;
        assert!((1.3..1.4).contains(&expansion), "{expansion}");
        for size in (16..=MAX_SMALL).step_by(8) {
            // n objects of this size fill ceil(n / per_page) pages.
            let per_page = slots_per_page(class_of(size));
            for n in [1usize, per_page, 10 * per_page + 1, 1000] {
                let pages = n.div_ceil(per_page);
                assert!(
                    pages <= worst_case_pages(n * size),
                    "size {size}, {n} objects"
                );
            }
        }
        assert_eq!(worst_case_pages(0), 0);
    }
}
