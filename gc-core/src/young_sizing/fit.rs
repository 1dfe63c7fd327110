//! The pause model of the young generation's sizing policy: a least-squares line
//! `pause = fixed + cost × survived` fitted to the minor collections seen, with decaying
//! weights (see the parent module for how the policy uses it).
//!
//! Invariants: `weight` is the sum of the decayed weights of the collections added; `cost`,
//! once identified, lies within `[MIN_COST, MAX_COST]`.

/// Weight of the newest collection in the pause fit: the line describes the collector and the
/// heap's remembered set, which change slowly, while single pauses vary by a third on a busy
/// machine; a fit over the last three collections let that noise through as a fixed part
/// twice too large, and the nursery grew by as much.
pub(super) const FIT_WEIGHT: f64 = 0.1;

/// Before the line is identified, a collection that copied at least this much is taken as all
/// copying, and one that copied less as all fixed part.
const COST_SAMPLE_MIN: usize = 64 << 10;

/// The fit's slope is (re)identified only when the survivors' sizes spread by this share of
/// their mean (a standard deviation). At a tenth, a nursery that moved by 10% from a size it
/// had held for a while was enough: pauses that vary by a third on a busy machine then gave a
/// slope near zero, the whole pause counted as fixed part, and the nursery doubled (a noisy
/// simulation in the tests swung to 31 MB where 8 MB is right; `array` reached 14 MB).
pub(super) const IDENTIFYING_SPREAD: f64 = 0.3;

/// Seconds per surviving byte assumed until measured: 1 GB/s of copying and scanning.
const DEFAULT_COST: f64 = 1e-9;

/// Bounds on the fitted cost per surviving byte: 10 GB/s to 10 MB/s.
const MIN_COST: f64 = 1e-10;
const MAX_COST: f64 = 1e-7;

/// A least-squares line `pause = fixed + cost × survived` over the collections seen, each
/// weighted by `(1 − FIT_WEIGHT)^age`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct PauseFit {
    weight: f64,
    x: f64,
    y: f64,
    xx: f64,
    xy: f64,
    /// The last cost the data identified (seconds per surviving byte).
    cost: Option<f64>,
}

impl PauseFit {
    pub(super) fn add(&mut self, survived: f64, pause: f64) {
        let keep = 1.0 - FIT_WEIGHT;
        self.weight = self.weight * keep + 1.0;
        self.x = self.x * keep + survived;
        self.y = self.y * keep + pause;
        self.xx = self.xx * keep + survived * survived;
        self.xy = self.xy * keep + survived * pause;
        let (mx, my) = (self.x / self.weight, self.y / self.weight);
        let var = self.xx / self.weight - mx * mx;
        let cov = self.xy / self.weight - mx * my;
        // Identified when the survivors' sizes spread by more than IDENTIFYING_SPREAD of their
        // mean: the slope of pauses that barely differ in size is mostly their noise.
        if var > (IDENTIFYING_SPREAD * mx).powi(2) && cov > 0.0 {
            self.cost = Some((cov / var).clamp(MIN_COST, MAX_COST));
        }
    }

    /// `(fixed, cost)`, seconds and seconds per byte; `None` before any collection.
    pub(super) fn line(&self) -> Option<(f64, f64)> {
        if self.weight == 0.0 {
            return None;
        }
        let (mx, my) = (self.x / self.weight, self.y / self.weight);
        let cost = self.cost.unwrap_or(if mx >= COST_SAMPLE_MIN as f64 {
            // Not identified yet: a collection that copied this much is taken as all copying.
            (my / mx).clamp(MIN_COST, MAX_COST)
        } else {
            DEFAULT_COST
        });
        Some(((my - cost * mx).max(0.0), cost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = (1 << 20) as f64;

    #[test]
    fn exact_pauses_give_back_their_line() {
        let mut fit = PauseFit::default();
        assert_eq!(fit.line(), None);
        for i in 0..20 {
            let survived = if i % 2 == 0 { MB } else { 4.0 * MB };
            fit.add(survived, 0.001 + 1e-9 * survived);
        }
        let (fixed, cost) = fit.line().unwrap();
        assert!((fixed - 0.001).abs() < 1e-9, "{fixed}");
        assert!((cost - 1e-9).abs() < 1e-15, "{cost}");
    }

    #[test]
    fn sizes_that_barely_differ_do_not_identify_a_slope() {
        // Sizes 30% apart (a spread of 13% of their mean), pauses that barely differ: as a
        // slope, that noise would make nearly the whole 12 ms a fixed part. The slope is not
        // read from them, and the line takes the whole pause as copying until a real spread
        // shows up.
        let mut fit = PauseFit::default();
        for i in 0..20 {
            let survived = if i % 2 == 0 { 10.0 * MB } else { 13.0 * MB };
            fit.add(survived, if i % 2 == 0 { 0.0120 } else { 0.0121 });
        }
        assert_eq!(fit.cost, None);
        let (fixed, _) = fit.line().unwrap();
        assert_eq!(fixed, 0.0);
        // A spread of 2x identifies it.
        for i in 0..10 {
            let survived = if i % 2 == 0 { 4.0 * MB } else { 8.0 * MB };
            fit.add(survived, 0.003 + 1e-9 * survived);
        }
        assert!(fit.cost.is_some());
    }
}
