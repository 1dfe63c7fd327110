//! Stress configurations: named sets of `PINION_GC_*` settings that `--configs` cycles through,
//! applied on top of the settings read from the environment.

use crate::settings::{HeapSettings, SettingError};

/// A named configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StressConfig {
    /// The name used on the command line and in replay headers.
    pub name: &'static str,
    /// The settings it changes.
    pub vars: &'static [(&'static str, &'static str)],
}

/// Every configuration `--configs all` runs.
pub const CONFIGS: &[StressConfig] = &[
    StressConfig {
        name: "default",
        vars: &[],
    },
    StressConfig {
        name: "tiny-nursery",
        vars: &[("NURSERY", "4K")],
    },
    StressConfig {
        name: "stress-1",
        vars: &[("NURSERY", "64K"), ("STRESS", "1")],
    },
    StressConfig {
        name: "stress-13",
        vars: &[("STRESS", "13")],
    },
    StressConfig {
        name: "poison",
        vars: &[("NURSERY", "256K"), ("NURSERY_DEBUG", "1")],
    },
    StressConfig {
        name: "max-pinned-0",
        vars: &[("MAX_PINNED", "0")],
    },
    StressConfig {
        name: "max-pinned-1",
        vars: &[("NURSERY", "64K"), ("MAX_PINNED", "1")],
    },
    StressConfig {
        name: "max-pinned-large",
        vars: &[("NURSERY", "64K"), ("MAX_PINNED", "100000"), ("MAX", "32M")],
    },
    StressConfig {
        name: "verify-minor",
        vars: &[("NURSERY", "64K"), ("DEBUG", "2")],
    },
    StressConfig {
        name: "verify-major",
        vars: &[("MIN", "1M"), ("DEBUG", "1")],
    },
    StressConfig {
        name: "sticky",
        vars: &[
            ("NURSERY", "16K"),
            ("MIN", "16K"),
            ("MAJOR_COLLECT", "1.2"),
            ("DEBUG", "1"),
        ],
    },
    StressConfig {
        name: "max-heap",
        vars: &[("NURSERY", "16K"), ("MAX", "32M"), ("MAX_PINNED", "1000")],
    },
];

/// The configurations named by `--configs` (`all`, or names separated by commas).
pub fn select(spec: &str) -> Result<Vec<StressConfig>, String> {
    if spec == "all" {
        return Ok(CONFIGS.to_vec());
    }
    spec.split(',')
        .map(|name| {
            CONFIGS
                .iter()
                .find(|c| c.name == name.trim())
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = CONFIGS.iter().map(|c| c.name).collect();
                    format!(
                        "unknown configuration `{name}`; known: all, {}",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

impl StressConfig {
    /// `base` with this configuration's settings applied.
    pub fn apply(&self, base: &HeapSettings) -> Result<HeapSettings, SettingError> {
        let mut settings = base.clone();
        for (name, value) in self.vars {
            settings.apply(name, value)?;
        }
        settings.to_config().validate().map_err(|e| SettingError {
            name: e.setting.to_string(),
            value: String::new(),
            reason: format!("configuration `{}`: {}", self.name, e.problem),
        })?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configuration_applies_to_the_defaults() {
        for c in CONFIGS {
            c.apply(&HeapSettings::default()).unwrap();
        }
        assert_eq!(select("all").unwrap().len(), CONFIGS.len());
        assert_eq!(select("stress-1,poison").unwrap().len(), 2);
        assert!(select("nope")
            .unwrap_err()
            .contains("unknown configuration `nope`"));
    }
}
