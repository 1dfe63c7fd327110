//! Reading heap settings from `PINION_GC_*` environment variables.
//!
//! Syntax follows PyPy's `PYPY_GC_*`: sizes take an optional `K`, `M` or `G` suffix (powers of
//! 1024), an optional trailing `B`, and decimals (`1.5MB`, `4M`, `1234B`, `1234`); factors are
//! plain decimals. Unlike PyPy, a bad value is never silently replaced: [`Config::from_env`]
//! returns a [`ConfigError`] naming every bad variable, the value found and the syntax
//! accepted, all at once. An unknown variable with the prefix is an error too, since it is
//! almost always a typo. [`Config::from_env_lenient`] warns once on stderr instead and keeps
//! the defaults for what it could not read.
//!
//! [`Config::from_vars`] does the same work on any list of variables, which keeps tests
//! hermetic (they never touch the process environment).

use std::ffi::OsString;
use std::fmt;

use crate::config::Config;

/// The accepted syntax of a size.
const SIZE: &str = "a size such as 4MB, 512K, 1.5MB or 1234 (K, M and G are powers of 1024; a trailing B is optional)";

/// Every variable, with the syntax it accepts.
pub const VARIABLES: &[(&str, &str)] = &[
    ("NURSERY", "a size from 256 bytes to 1 TiB such as 4MB, 512K, 1.5MB or 1234 (K, M and G are powers of 1024; a trailing B is optional), or `auto`"),
    ("NURSERY_MIN", "a size from 256 bytes to 1 TiB such as 512K or 1MB (K, M and G are powers of 1024; a trailing B is optional)"),
    ("NURSERY_MAX", "a size from 256 bytes to 1 TiB such as 64MB or 256M (K, M and G are powers of 1024; a trailing B is optional)"),
    ("MINOR_PAUSE", "a duration such as 2ms, 500us, 0.5ms or 0.002s (units ns, us, ms, s), or 0 for no pause goal"),
    ("RELEASE_AFTER", "a duration such as 1s, 500ms or 2.5s (units ns, us, ms, s), or 0 to release at once"),
    ("NURSERY_DEBUG", "0 or 1"),
    ("MAJOR_COLLECT", "0 (threshold-zero: no automatic major collection) or a decimal factor above 1, such as 1.82"),
    ("GROWTH", "a decimal factor above 1, such as 1.4"),
    ("MIN", SIZE),
    ("MAX", "a size such as 4MB, 512K, 1.5MB or 1234 (K, M and G are powers of 1024; a trailing B is optional), or 0 for no limit"),
    ("MAX_DELTA", SIZE),
    ("MAX_PINNED", "a whole number of objects, such as 256 (0 disables pinning)"),
    ("DEBUG", "0, 1, 2 or 3"),
    ("STRESS", "a whole number N (a minor collection every N allocations), or 0 for off"),
    ("TRACE", "0 or 1"),
    ("STICKY", "0 (every major collection marks the whole heap) or 1 (the default: automatic ones may be sticky)"),
    ("LOG", "a file path"),
];

/// One variable that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvProblem {
    /// The variable's full name, such as `PINION_GC_NURSERY`.
    pub variable: String,
    /// The value found.
    pub value: String,
    /// What is accepted (or why the variable is unknown).
    pub expected: String,
}

impl fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?}: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

/// Every problem found in the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The problems, sorted by variable name.
    pub problems: Vec<EnvProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad heap configuration in the environment:")?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Parses a size (`4MB`, `1.5M`, `512k`, `1234B`, `1234`).
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t);
    let (digits, scale) = match t.char_indices().last()? {
        (i, 'K' | 'k') => (&t[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&t[..i], 1u64 << 20),
        (i, 'G' | 'g') => (&t[..i], 1u64 << 30),
        _ => (t, 1),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = digits.parse().ok()?;
    let bytes = value * scale as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes <= usize::MAX as f64).then_some(bytes as usize)
}

/// Parses a duration (`2ms`, `500us`, `0.002s`, `0`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(gc_core::parse_duration("2ms"), Some(Duration::from_millis(2)));
/// assert_eq!(gc_core::parse_duration("1.5 ms"), Some(Duration::from_micros(1500)));
/// assert_eq!(gc_core::parse_duration("0"), Some(Duration::ZERO));
/// assert_eq!(gc_core::parse_duration("2"), None); // a unit is required, except for 0
/// ```
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    if t == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let (number, unit_ns) = [
        ("ns", 1u64),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
    ]
    .iter()
    .find_map(|&(suffix, ns)| Some((t.strip_suffix(suffix)?.trim_end(), ns)))?;
    // Exact decimal arithmetic, so that a duration written out reads back unchanged.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let mut nanos = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().ok()?.checked_mul(unit_ns)?
    };
    let mut scale = unit_ns;
    for c in fraction.chars() {
        scale /= 10;
        nanos = nanos.checked_add(u64::from(c.to_digit(10)?) * scale)?;
    }
    Some(std::time::Duration::from_nanos(nanos))
}

/// A duration written so that [`parse_duration`] reads it back exactly.
fn exact_duration(d: std::time::Duration) -> String {
    let ns = d.as_nanos();
    format!("{}.{:06}ms", ns / 1_000_000, ns % 1_000_000)
}

/// Parses a plain decimal factor (`1.82`, `0`, `2`).
pub fn parse_factor(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse().ok().filter(|v: &f64| v.is_finite())
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn parse_count(text: &str) -> Option<u64> {
    let t = text.trim();
    (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// Total physical memory in bytes (8 GiB when it cannot be read).
pub(crate) fn physical_memory() -> usize {
    const FALLBACK: usize = 8 << 30;
    #[cfg(miri)]
    {
        FALLBACK
    }
    #[cfg(not(miri))]
    {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kb * 1024)
            })
            .unwrap_or(FALLBACK)
    }
}

/// The nursery size `NURSERY=auto` picks: half of the L2 + L3 cache size when that half is
/// above 8 MiB (PyPy's rule), otherwise the default.
pub fn auto_nursery_size() -> usize {
    let half = cache_bytes(&[2, 3]) / 2;
    if half > 8 << 20 {
        half
    } else {
        crate::config::DEFAULT_NURSERY_SIZE
    }
}

/// Sum of the sizes of CPU 0's caches at the given levels, from sysfs (0 when unknown).
fn cache_bytes(levels: &[u32]) -> usize {
    #[cfg(miri)]
    {
        let _ = levels;
        0
    }
    #[cfg(not(miri))]
    {
        let mut total = 0;
        for index in 0..8 {
            let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
            let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).ok();
            let (Some(level), Some(size), Some(kind)) = (read("level"), read("size"), read("type"))
            else {
                continue;
            };
            let level: u32 = level.trim().parse().unwrap_or(0);
            if levels.contains(&level) && kind.trim() != "Instruction" {
                total += parse_size(size.trim()).unwrap_or(0);
            }
        }
        total
    }
}

impl Config {
    /// Reads the `PINION_GC_*` variables over the defaults.
    ///
    /// ```
    /// let config = gc_core::Config::from_env().expect("a valid environment");
    /// assert!(config.nursery_size() > 0);
    /// ```
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_prefix("PINION_GC_")
    }

    /// Reads the variables with the embedder's own prefix (for example `MYLANG_GC_`, or
    /// `PYPY_GC_` for a PyPy-like runtime).
    pub fn from_env_prefix(prefix: &str) -> Result<Config, ConfigError> {
        Config::from_vars(prefix, std::env::vars_os())
    }

    /// Like [`Config::from_env`], but a bad or unknown variable is reported once on stderr
    /// and its default kept.
    pub fn from_env_lenient() -> Config {
        static WARNED: std::sync::Once = std::sync::Once::new();
        let (config, error) = Config::read_vars("PINION_GC_", std::env::vars_os());
        if let Some(error) = error {
            WARNED.call_once(|| eprintln!("pinion: {error}\npinion: using the defaults for these"));
        }
        config
    }

    /// Reads settings from `vars` (name, value pairs) instead of the process environment.
    ///
    /// ```
    /// use gc_core::Config;
    /// let vars = [("MYLANG_GC_NURSERY", "1.5MB"), ("MYLANG_GC_MAJOR_COLLECT", "0"), ("PATH", "/bin")];
    /// let config = Config::from_vars("MYLANG_GC_", vars).unwrap();
    /// assert_eq!(config.nursery_size(), 1536 * 1024);
    /// assert_eq!(config.major_collect(), 0.0);
    ///
    /// let err = Config::from_vars("MYLANG_GC_", [("MYLANG_GC_NURSERY", "lots"), ("MYLANG_GC_NURSRY", "1M")]).unwrap_err();
    /// assert_eq!(err.problems.len(), 2);
    /// assert!(err.to_string().contains("MYLANG_GC_NURSERY=\"lots\": expected a size"));
    /// ```
    pub fn from_vars<K, V>(
        prefix: &str,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Config, ConfigError>
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        match Config::read_vars(prefix, vars) {
            (config, None) => Ok(config),
            (_, Some(error)) => Err(error),
        }
    }

    fn read_vars<K, V>(
        prefix: &str,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> (Config, Option<ConfigError>)
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut config = Config::default();
        let mut problems = Vec::new();
        let mut given = Vec::new();
        let mut vars: Vec<(String, OsString)> = vars
            .into_iter()
            .filter_map(|(k, v)| {
                let k = k.into().into_string().ok()?;
                k.starts_with(prefix).then(|| (k, v.into()))
            })
            .collect();
        // NURSERY first: MAX_PINNED's default depends on it.
        vars.sort_by_key(|(k, _)| (k != &format!("{prefix}NURSERY"), k.clone()));
        for (name, value) in vars {
            let suffix = &name[prefix.len()..];
            let Some(value) = value.to_str().map(str::to_string) else {
                problems.push(EnvProblem {
                    variable: name.clone(),
                    value: value.to_string_lossy().into_owned(),
                    expected: "a UTF-8 value".into(),
                });
                continue;
            };
            match config.set(suffix, &value) {
                Ok(()) => given.push((suffix.to_string(), value)),
                Err(expected) => problems.push(EnvProblem {
                    variable: name.clone(),
                    value,
                    expected,
                }),
            }
        }
        if let Err(invalid) = config.validate() {
            let value = given
                .iter()
                .find(|(s, _)| s == invalid.setting)
                .map_or_else(String::new, |(_, v)| v.clone());
            problems.push(EnvProblem {
                variable: format!("{prefix}{}", invalid.setting),
                value,
                expected: invalid.problem,
            });
            config = Config::default();
        }
        problems.sort_by(|a, b| a.variable.cmp(&b.variable));
        let error = (!problems.is_empty()).then_some(ConfigError { problems });
        (config, error)
    }

    /// Applies one variable, by its suffix (`NURSERY`, `MAJOR_COLLECT`, …). On error returns
    /// the accepted syntax (or, for an unknown suffix, the list of known ones).
    pub fn set(&mut self, suffix: &str, value: &str) -> Result<(), String> {
        let syntax = || {
            VARIABLES
                .iter()
                .find(|(s, _)| *s == suffix)
                .map_or("", |(_, syntax)| syntax)
                .to_string()
        };
        let size = || parse_size(value).ok_or_else(syntax);
        let flag = || parse_flag(value).ok_or_else(syntax);
        let c = self.clone();
        *self = match suffix {
            "NURSERY" if value.trim() == "auto" => c.with_nursery_size(auto_nursery_size()),
            "NURSERY" => c.with_nursery_size(size()?),
            "NURSERY_MIN" => c.with_nursery_bounds(Some(size()?), None),
            "NURSERY_MAX" => c.with_nursery_bounds(None, Some(size()?)),
            "MINOR_PAUSE" => c.with_minor_pause(parse_duration(value).ok_or_else(syntax)?),
            "RELEASE_AFTER" => c.with_release_after(parse_duration(value).ok_or_else(syntax)?),
            "NURSERY_DEBUG" => c.with_nursery_debug(flag()?),
            "MAJOR_COLLECT" => {
                let f = parse_factor(value)
                    .filter(|&f| f == 0.0 || f > 1.0)
                    .ok_or_else(syntax)?;
                c.with_major_collect(f)
            }
            "GROWTH" => c.with_growth(
                parse_factor(value)
                    .filter(|&f| f > 1.0)
                    .ok_or_else(syntax)?,
            ),
            "MIN" => c.with_min_major(size()?),
            "MAX" => c.with_max_heap(Some(size()?).filter(|&m| m > 0)),
            "MAX_DELTA" => c.with_max_delta(size()?),
            "MAX_PINNED" => c.with_max_pinned(parse_count(value).ok_or_else(syntax)? as usize),
            "DEBUG" => {
                c.with_debug_level(parse_count(value).filter(|&d| d <= 3).ok_or_else(syntax)? as u8)
            }
            "STRESS" => {
                let n = parse_count(value)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(syntax)?;
                c.with_stress(Some(n))
            }
            "TRACE" => c.with_trace(flag()?),
            "STICKY" => c.with_sticky(flag()?),
            "LOG" if value.trim().is_empty() => return Err(syntax()),
            "LOG" => c.with_log(Some(value.into())),
            _ => {
                let known: Vec<&str> = VARIABLES.iter().map(|(s, _)| *s).collect();
                return Err(format!(
                    "a known variable: this one is unknown (known suffixes: {})",
                    known.join(", ")
                ));
            }
        };
        Ok(())
    }

    /// Every setting as it would be written in the environment, `(suffix, value)`, in a fixed
    /// order; [`Config::set`] reads each one back to the same value.
    pub fn env_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = if self.nursery_adaptive() {
            vec![
                ("NURSERY_MIN", self.nursery_min().to_string()),
                ("NURSERY_MAX", self.nursery_max().to_string()),
            ]
        } else {
            vec![("NURSERY", self.nursery_size().to_string())]
        };
        pairs.extend([
            ("MINOR_PAUSE", exact_duration(self.minor_pause())),
            ("RELEASE_AFTER", exact_duration(self.release_after())),
            ("NURSERY_DEBUG", u8::from(self.nursery_debug()).to_string()),
            ("MAJOR_COLLECT", self.major_collect().to_string()),
            ("GROWTH", self.growth().to_string()),
            ("MIN", self.min_major().to_string()),
            ("MAX", self.max_heap().unwrap_or(0).to_string()),
            ("MAX_DELTA", self.max_delta().to_string()),
            ("MAX_PINNED", self.max_pinned().to_string()),
            ("DEBUG", self.debug_level().to_string()),
            ("STRESS", self.stress().unwrap_or(0).to_string()),
            ("TRACE", u8::from(self.trace()).to_string()),
            ("STICKY", u8::from(self.sticky()).to_string()),
        ]);
        if let Some(log) = self.log() {
            pairs.push(("LOG", log.display().to_string()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_pypy_syntax() {
        let cases = [
            ("1234", 1234),
            ("1234B", 1234),
            ("4K", 4096),
            ("4k", 4096),
            ("4KB", 4096),
            ("4M", 4 << 20),
            ("4MB", 4 << 20),
            ("1.5MB", 1536 << 10),
            ("1G", 1 << 30),
            ("0.5gb", 512 << 20),
            (" 8M ", 8 << 20),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Some(bytes), "{text}");
        }
        for bad in [
            "", "M", "4T", "-4M", "4 M", "4MiB", "1e6", "four", "4MBB", "1.2.3M",
        ] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn factors_are_plain_decimals() {
        assert_eq!(parse_factor("1.82"), Some(1.82));
        assert_eq!(parse_factor("0"), Some(0.0));
        assert_eq!(parse_factor("2"), Some(2.0));
        for bad in ["", "-1", "1e3", "inf", "NaN", "1,5", "x"] {
            assert_eq!(parse_factor(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_pair_reads_back_to_the_same_config() {
        let config = Config::default()
            .with_nursery_size(1 << 20)
            .with_nursery_debug(true)
            .with_major_collect(0.0)
            .with_growth(2.5)
            .with_min_major(3 << 20)
            .with_max_heap(Some(64 << 20))
            .with_max_delta(9 << 20)
            .with_max_pinned(7)
            .with_debug_level(2)
            .with_stress(Some(11))
            .with_trace(true)
            .with_log(Some("/tmp/x.jsonl".into()));
        let mut copy = Config::default();
        for (suffix, value) in config.env_pairs() {
            copy.set(suffix, &value).unwrap();
        }
        assert_eq!(copy, config);
    }
}
