//! The heap settings a run uses, and how a replay file records them.
//!
//! Every setting is written into a replay file's header as `# PINION_GC_NAME=value`, the same
//! names operators use in the environment, so a reproducer that depends on a tiny nursery or
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

    /// The heap settings an embedder would get from the environment. (Until the
    /// configuration layer reads `PINION_GC_*`, these are the defaults.)
    pub fn from_env() -> Result<HeapSettings, SettingError> {
        Ok(HeapSettings::default())
    }

    /// The configuration to build a heap with.
    pub fn to_config(&self) -> Config {
        self.config.clone()
    }

    /// Every setting as `(NAME, value)`, in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let c = &self.config;
        vec![
            ("NURSERY", c.nursery_size().to_string()),
            ("NURSERY_DEBUG", u8::from(c.nursery_debug()).to_string()),
            ("MAJOR_COLLECT", c.major_collect().to_string()),
            ("MIN", c.min_major().to_string()),
            (
                "STRESS",
                c.stress().map_or("off".to_string(), |n| n.to_string()),
            ),
            ("DEBUG", c.debug_level().to_string()),
        ]
    }

    /// Applies one recorded setting.
    pub fn apply(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        let bad = |reason: &str| SettingError {
            name: name.into(),
            value: value.into(),
            reason: reason.into(),
        };
        let int = || value.parse::<u64>().map_err(|_| bad("an unsigned integer"));
        let c = self.config.clone();
        self.config = match name {
            "NURSERY" => c.with_nursery_size(int()? as usize),
            "NURSERY_DEBUG" => c.with_nursery_debug(int()? != 0),
            "MAJOR_COLLECT" => {
                c.with_major_collect(value.parse::<f64>().map_err(|_| bad("a decimal factor"))?)
            }
            "MIN" => c.with_min_major(int()? as usize),
            "STRESS" if value == "off" => c.with_stress(None),
            "STRESS" => c.with_stress(Some(
                u32::try_from(int()?).map_err(|_| bad("at most 2^32-1"))?,
            )),
            "DEBUG" => c.with_debug_level(u8::try_from(int()?).map_err(|_| bad("0, 1 or 2"))?),
            _ => return Err(bad("unknown setting")),
        };
        Ok(())
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
        assert!(copy.apply("NURSERY", "big").is_err());
        assert!(copy.apply("COLOUR", "1").is_err());
    }
}
