//! The heap settings a run uses, and how a replay file records them.
//!
//! Runs read `PINION_GC_*` exactly as an embedder does (`Config::from_env`, the strict
//! parser). Every setting is written into a replay file's header as `# PINION_GC_NAME=value`,
//! and read back with the same parser, so a reproducer that depends on a tiny nursery or
//! stress mode carries it along.

use gc_core::Config;

/// The heap settings of a run. Two settings are equal when every recorded value is.
#[derive(Clone, Debug, Default)]
pub struct HeapSettings {
    config: Config,
}

impl PartialEq for HeapSettings {
    fn eq(&self, other: &Self) -> bool {
        self.pairs() == other.pairs()
    }
}

/// A header line that is not a valid setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad setting `{name}={value}`: {reason}")]
pub struct SettingError {
    /// Setting name (without the prefix).
    pub name: String,
    /// Value found.
    pub value: String,
    /// What is accepted.
    pub reason: String,
}

impl HeapSettings {
    /// Settings wrapping an explicit configuration.
    pub fn from_config(config: Config) -> HeapSettings {
        HeapSettings { config }
    }

    /// The heap settings an embedder gets from the `PINION_GC_*` environment variables, read
    /// with the strict parser: any bad or unknown variable is an error.
    pub fn from_env() -> Result<HeapSettings, gc_core::ConfigError> {
        Config::from_env().map(HeapSettings::from_config)
    }

    /// The configuration to build a heap with.
    pub fn to_config(&self) -> Config {
        self.config.clone()
    }

    /// Every setting as `(NAME, value)` without the `PINION_GC_` prefix, in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        self.config.env_pairs()
    }

    /// Applies one recorded setting, with the same parser as the environment.
    pub fn apply(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        self.config.set(name, value).map_err(|reason| SettingError {
            name: name.into(),
            value: value.into(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_pairs() {
        let original = HeapSettings::from_config(
            Config::default()
                .with_nursery_size(4096)
                .with_stress(Some(3))
                .with_debug_level(1)
                .with_nursery_debug(true),
        );
        let mut copy = HeapSettings::default();
        for (name, value) in original.pairs() {
            copy.apply(name, &value).unwrap();
        }
        assert_eq!(copy, original);
        let err = copy.apply("NURSERY", "big").unwrap_err();
        assert!(err.reason.contains("a size from 256 bytes"), "{err}");
        assert!(copy.apply("COLOUR", "1").is_err());
    }
}
