//! Verdicts per script, summaries per corpus, and the not-passing list.

use crate::profile::Profile;
use crate::run::{run_script, Outcome, RunOptions};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A script's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub path: PathBuf,
    /// The corpus folder (`google`, `freebsd`) or `-`.
    pub corpus: String,
    pub profile: Profile,
    pub outcome: Outcome,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Pass { .. })
    }

    /// One line: `pass` / `FAIL` / `unsupported`, the path, and why.
    pub fn line(&self) -> String {
        let p = self.path.display();
        match &self.outcome {
            Outcome::Pass { skipped } => {
                format!("pass         {p} ({} lines skipped)", skipped.len())
            }
            Outcome::Fail { line, .. } => format!("FAIL         {p}:{line}"),
            Outcome::Unsupported { line, construct } => {
                format!("unsupported  {p}:{line}: {construct}")
            }
        }
    }

    /// The failure in full, or the skipped lines when verbose.
    pub fn details(&self, verbose: bool) -> String {
        let mut s = String::new();
        match &self.outcome {
            Outcome::Fail {
                line,
                text,
                expected,
                actual,
            } => {
                let _ = writeln!(s, "    line {line}: {text}");
                let _ = writeln!(s, "    expected: {expected}");
                let _ = writeln!(s, "    actual:   {actual}");
            }
            Outcome::Pass { skipped } if verbose => {
                for (line, why) in skipped {
                    let _ = writeln!(s, "    skipped line {line}: {why}");
                }
            }
            _ => {}
        }
        s
    }

    /// A one-line reason for the not-passing list.
    pub fn reason(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Pass { .. } => None,
            Outcome::Fail {
                line,
                expected,
                actual,
                ..
            } => Some(format!(
                "fail at line {line}: expected `{expected}`, got `{actual}`"
            )),
            Outcome::Unsupported { line, construct } => {
                Some(format!("unsupported at line {line}: {construct}"))
            }
        }
    }
}

/// Counts per corpus.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub per_corpus: BTreeMap<String, [usize; 3]>,
}

impl Summary {
    pub fn of(verdicts: &[Verdict]) -> Summary {
        let mut s = Summary::default();
        for v in verdicts {
            let c = s.per_corpus.entry(v.corpus.clone()).or_default();
            let i = match v.outcome {
                Outcome::Pass { .. } => 0,
                Outcome::Fail { .. } => 1,
                Outcome::Unsupported { .. } => 2,
            };
            c[i] += 1;
        }
        s
    }

    pub fn passed(&self) -> usize {
        self.per_corpus.values().map(|c| c[0]).sum()
    }

    pub fn failed(&self) -> usize {
        self.per_corpus.values().map(|c| c[1]).sum()
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .per_corpus
            .iter()
            .map(|(k, c)| format!("{k}: {} pass, {} fail, {} unsupported", c[0], c[1], c[2]))
            .collect();
        let t = self
            .per_corpus
            .values()
            .fold([0; 3], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2]]);
        out.push(format!(
            "total: {} pass, {} fail, {} unsupported",
            t[0], t[1], t[2]
        ));
        out
    }
}

/// The scripts under a file or folder, sorted.
pub fn collect(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() {
                out.extend(collect(&e)?);
            } else if e.extension().is_some_and(|x| x == "pkt") {
                out.push(e);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(out)
}

/// Runs every script under `path`. `profile` overrides the corpus default.
pub fn run_path(
    path: &Path,
    profile: Option<Profile>,
    tolerance_usecs: Option<u64>,
) -> std::io::Result<Vec<Verdict>> {
    let mut verdicts = Vec::new();
    for file in collect(path)? {
        let text = std::fs::read_to_string(&file)?;
        let corpus_profile = Profile::for_path(&file);
        let profile = profile.or(corpus_profile).unwrap_or(Profile::Linux);
        let corpus = match corpus_profile {
            Some(Profile::Linux) => "google",
            Some(Profile::FreeBsd) => "freebsd",
            None => "-",
        };
        let outcome = run_script(
            &text,
            &RunOptions {
                profile,
                tolerance_usecs,
            },
        );
        verdicts.push(Verdict {
            path: file,
            corpus: corpus.to_string(),
            profile,
            outcome,
        });
    }
    Ok(verdicts)
}

/// The not-passing list as Markdown, paths relative to `root`.
/// Scripts that test an upstream OS's own choice where synack makes a
/// different one the RFCs allow, and the section that allows it.
const DIFFERENT_ON_PURPOSE: &[(&str, &str)] = &[
    (
        "google/limited_transmit/limited-transmit-sack.pkt",
        PSH_NOTE,
    ),
    ("google/nagle/https_client.pkt", PSH_NOTE),
];

const PSH_NOTE: &str = "Linux also sets PSH inside a write (its tcp_push and \
     forced-push heuristics); synack sets it on the segment that ends what the application \
     queued, the one RFC 9293 §3.9.1 (MUST-61) requires, and nowhere else: PSH is the \
     sender's choice elsewhere (RFC 9293 §3.9.1, MAY-15)";

pub fn not_passing_markdown(verdicts: &[Verdict], root: &Path) -> String {
    let mut s = String::from(
        "# Scripts not passing yet\n\n\
         Generated by `synack drill --not-passing <corpus>` (or `SYNACK_DRILL_WRITE=1 cargo test -p \
         synack-drill --test corpus`); do not edit by hand.\n\n",
    );
    for line in Summary::of(verdicts).lines() {
        let _ = writeln!(s, "- {line}");
    }
    s.push('\n');
    for v in verdicts {
        if let Some(reason) = v.reason() {
            let rel = v.path.strip_prefix(root).unwrap_or(&v.path);
            let reason = reason.replace('\n', " ");
            let _ = writeln!(s, "- `{}`: {reason}", rel.display());
            let note = DIFFERENT_ON_PURPOSE
                .iter()
                .find(|(script, _)| rel.ends_with(script));
            if let Some((_, why)) = note {
                let _ = writeln!(s, "  - Different on purpose: {why}.");
            }
        }
    }
    s
}
