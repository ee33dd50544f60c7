//! `synack drill FILE|DIR`: runs packetdrill scripts against one synack
//! host on virtual time and reports pass / fail / unsupported per script.

use crate::numbers::whole;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use synack_drill::report::{not_passing_markdown, run_path, Summary};
use synack_drill::Profile;

#[derive(Args, Debug)]
pub struct DrillArgs {
    /// A script, or a folder searched for *.pkt
    #[arg(value_name = "FILE|DIR")]
    path: PathBuf,
    /// Defaults to assume: linux or freebsd (by default from the corpus
    /// folder: google/ → linux, freebsd/ → freebsd)
    #[arg(long, value_name = "PROFILE", value_parser = parse_profile)]
    profile: Option<Profile>,
    /// Timing tolerance in microseconds, instead of the script's
    /// --tolerance_usecs (4000 when it has none)
    #[arg(long, value_name = "USECS", value_parser = whole::<u64>(0..=u64::MAX), allow_negative_numbers = true)]
    tolerance_usecs: Option<u64>,
    /// Show skipped lines of passing scripts too
    #[arg(long)]
    verbose: bool,
    /// Print the not-passing list as Markdown (for
    /// crates/synack-drill/NOT_PASSING.md) instead of the report
    #[arg(long)]
    not_passing: bool,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s).ok_or_else(|| format!("unknown profile `{s}` (linux or freebsd)"))
}

pub fn drill(args: DrillArgs) -> ExitCode {
    let verdicts = match run_path(&args.path, args.profile, args.tolerance_usecs) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("synack drill: {}: {e}", args.path.display());
            return ExitCode::from(2);
        }
    };
    let summary = Summary::of(&verdicts);
    if args.not_passing {
        print!("{}", not_passing_markdown(&verdicts, &args.path));
    } else {
        for v in &verdicts {
            println!("{}", v.line());
            print!("{}", v.details(args.verbose));
        }
        println!();
        for line in summary.lines() {
            println!("{line}");
        }
    }
    if summary.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
