//! Where rule files come from: the builtin table compiled into the binary,
//! and `--rules DIR` directories of the user's own `*.toml` files.

use std::path::Path;

use super::{RuleError, RuleSet};

/// The builtin rule files, sorted by name, embedded at build time.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("rules/auth.toml", include_str!("../../rules/auth.toml")),
    ("rules/benign.toml", include_str!("../../rules/benign.toml")),
    ("rules/config.toml", include_str!("../../rules/config.toml")),
    ("rules/context.toml", include_str!("../../rules/context.toml")),
    ("rules/image.toml", include_str!("../../rules/image.toml")),
    ("rules/network.toml", include_str!("../../rules/network.toml")),
    ("rules/node.toml", include_str!("../../rules/node.toml")),
    ("rules/policy.toml", include_str!("../../rules/policy.toml")),
    ("rules/pull.toml", include_str!("../../rules/pull.toml")),
    ("rules/push.toml", include_str!("../../rules/push.toml")),
    ("rules/registry.toml", include_str!("../../rules/registry.toml")),
    ("rules/runtime.toml", include_str!("../../rules/runtime.toml")),
    ("rules/symptom.toml", include_str!("../../rules/symptom.toml")),
    ("rules/tls.toml", include_str!("../../rules/tls.toml")),
];

/// The builtin rule table.
///
/// Causes are loaded from every file before any rule, so a rule may point
/// at a cause of another family.
pub fn builtin() -> Result<RuleSet, RuleError> {
    let mut set = RuleSet::default();
    let files = BUILTIN_FILES.iter().map(|&(n, t)| (n.to_string(), t.to_string()));
    add_all(&mut set, files, false)?;
    Ok(set)
}

/// Add every `*.toml` file of `dir` (sorted by name, not recursive) to `set`.
pub fn load_dir(set: &mut RuleSet, dir: &Path) -> Result<(), RuleError> {
    let io_err = |file: &Path, e: std::io::Error| RuleError {
        file: file.into(),
        rule: None,
        pattern: None,
        message: e.to_string(),
    };
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
        files.push((p.display().to_string(), text));
    }
    add_all(set, files.into_iter(), true)
}

/// Two passes: first every file's causes, then every file's rules. Each
/// file is parsed once, the two halves of the list on two threads (TOML
/// parsing was the largest part of planning a run on a small log).
fn add_all(
    set: &mut RuleSet,
    files: impl Iterator<Item = (String, String)>,
    eager: bool,
) -> Result<(), RuleError> {
    let files: Vec<(String, String)> = files.collect();
    let parse = |part: &[(String, String)]| -> Vec<Result<super::RuleFileSyntax, RuleError>> {
        part.iter().map(|(name, text)| super::parse_file(name, text)).collect()
    };
    let (first, second) = files.split_at(files.len() / 2);
    let parsed: Vec<_> = std::thread::scope(|scope| {
        let other = scope.spawn(|| parse(second));
        let mut all = parse(first);
        match other.join() {
            Ok(rest) => all.extend(rest),
            // The parser does not panic on bad input; if it did, parse again
            // here so the panic surfaces on this thread.
            Err(_) => all.extend(parse(second)),
        }
        all
    });
    let mut parsed = parsed.into_iter().collect::<Result<Vec<_>, _>>()?;
    for ((name, _), file) in files.iter().zip(&mut parsed) {
        set.add_parsed_causes(name, std::mem::take(&mut file.causes))?;
    }
    for ((name, _), file) in files.iter().zip(parsed) {
        set.add_parsed_rules(name, file.rules, eager)?;
        set.add_context(name, file.context, eager)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_pattern_compiles() {
        // The builtin table compiles its patterns lazily; this is where a
        // bad one would show.
        let set = super::builtin().unwrap();
        for r in &set.rules {
            if let Err((p, e)) = super::super::compile_patterns(&r.patterns) {
                panic!("{}: rule {}: pattern {p:?}: {e}", r.origin, r.id);
            }
        }
    }
}
