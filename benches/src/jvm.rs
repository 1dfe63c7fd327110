//! The JVM as a benchmark peer: finding a JDK, compiling the Java versions of the workloads
//! (`benches/java/`) into the target directory, and building the command that runs one.
//!
//! JDK 17 is used by explicit path when it is installed (`/usr/lib/jvm/java-17-*`), since the
//! figures in `docs/performance.md` were measured with it and a machine may carry a newer JDK
//! as its default; otherwise `$JAVA_HOME`, then `java`/`javac` on the `PATH`. The version used
//! is printed with the results. Without a JDK the JVM peers report `n/a`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Java sources, embedded so that the binary needs nothing from the source tree to run.
const SOURCES: [(&str, &str); 3] = [
    ("BinaryTrees", include_str!("../java/BinaryTrees.java")),
    ("GcBench", include_str!("../java/GcBench.java")),
    ("Splay", include_str!("../java/Splay.java")),
];

/// A JDK ready to run one workload's class.
#[derive(Clone, Debug)]
pub struct Jvm {
    java: PathBuf,
    version: String,
    classes: PathBuf,
    class: &'static str,
}

/// The Java class of a workload, if it has one.
pub fn class_of(workload: &str) -> Option<&'static str> {
    match workload {
        "binary-trees" => Some("BinaryTrees"),
        "gcbench" => Some("GcBench"),
        "splay" => Some("Splay"),
        _ => None,
    }
}

/// Finds a JDK and compiles the workload's class (once: later calls reuse the classes while
/// the sources are unchanged); the error says why the JVM peers are `n/a`.
pub fn prepare(workload: &str) -> Result<Jvm, String> {
    let class =
        class_of(workload).ok_or_else(|| format!("no Java version of the {workload} workload"))?;
    let home = find_home()
        .ok_or("no JDK found (looked in /usr/lib/jvm/java-17-*, $JAVA_HOME and the PATH)")?;
    let tool = |name: &str| match &home {
        Some(home) => home.join("bin").join(name),
        None => PathBuf::from(name),
    };
    let (java, javac) = (tool("java"), tool("javac"));
    let version = version(&java)?;
    let classes = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .ok_or("the executable has no directory")?
        .join("java-bench");
    compile(&javac, &classes)?;
    Ok(Jvm {
        java,
        version,
        classes,
        class,
    })
}

impl Jvm {
    /// What is used, for the report.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}), classes in {}",
            self.java.display(),
            self.version,
            self.classes.display()
        )
    }

    /// The command running the workload's class with the collector `options` and the `sizing`
    /// options; the caller appends the workload's size.
    pub fn command(&self, options: &[&str], sizing: &[&str]) -> Command {
        let mut command = Command::new(&self.java);
        command
            .args(options)
            .args(sizing)
            // Deep recursion (counting a splay tree, building a depth-22 tree) needs a big stack.
            .arg("-Xss256m")
            .arg("-cp")
            .arg(&self.classes)
            .arg(self.class);
        command
    }
}

/// The JDK's home: `Some(path)`, or `None` for the tools on the `PATH`; `None` overall when
/// there is no JDK at all.
fn find_home() -> Option<Option<PathBuf>> {
    let has_javac = |home: &Path| home.join("bin/javac").is_file();
    let mut jdk17: Vec<PathBuf> = std::fs::read_dir("/usr/lib/jvm")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.starts_with("java-17-")) && has_javac(p)
        })
        .collect();
    jdk17.sort();
    if let Some(home) = jdk17.into_iter().next() {
        return Some(Some(home));
    }
    if let Some(home) = std::env::var_os("JAVA_HOME").map(PathBuf::from) {
        if has_javac(&home) {
            return Some(Some(home));
        }
    }
    let on_path = Command::new("javac").arg("-version").output();
    on_path.is_ok_and(|o| o.status.success()).then_some(None)
}

/// The first line of `java -version`.
fn version(java: &Path) -> Result<String, String> {
    let out = Command::new(java)
        .arg("-version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", java.display()))?;
    let text = String::from_utf8_lossy(&out.stderr);
    Ok(text
        .lines()
        .next()
        .unwrap_or("unknown version")
        .trim()
        .to_string())
}

/// Writes the sources into `dir` and compiles them there, unless the classes already match the
/// sources.
fn compile(javac: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut stale = false;
    for (class, text) in SOURCES {
        let source = dir.join(format!("{class}.java"));
        if std::fs::read_to_string(&source).ok().as_deref() != Some(text) {
            std::fs::write(&source, text).map_err(|e| format!("{}: {e}", source.display()))?;
            stale = true;
        }
        stale |= !dir.join(format!("{class}.class")).is_file();
    }
    if !stale {
        return Ok(());
    }
    let out = Command::new(javac)
        .arg("-d")
        .arg(dir)
        .args(
            SOURCES
                .iter()
                .map(|(class, _)| dir.join(format!("{class}.java"))),
        )
        .output()
        .map_err(|e| format!("cannot run {}: {e}", javac.display()))?;
    if !out.status.success() {
        // Remove the sources so that the next run compiles again.
        for (class, _) in SOURCES {
            let _ = std::fs::remove_file(dir.join(format!("{class}.java")));
        }
        return Err(format!(
            "javac failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_workloads_have_java_versions() {
        assert_eq!(class_of("binary-trees"), Some("BinaryTrees"));
        assert_eq!(class_of("splay"), Some("Splay"));
        assert_eq!(class_of("gcbench"), Some("GcBench"));
        assert_eq!(class_of("list"), None);
        assert!(prepare("json").unwrap_err().contains("no Java version"));
    }

    #[test]
    fn every_source_declares_its_class() {
        for (class, text) in SOURCES {
            assert!(
                text.contains(&format!("public final class {class} ")),
                "{class}"
            );
        }
    }
}
