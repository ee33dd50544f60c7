//! What the picture and golden tests share.

use synack_sim::scenarios::{DemoOptions, Report, Scenario};

/// `scenario` as `synack demo NAME` plays it by default (seed 1).
pub fn play(scenario: &Scenario) -> Report {
    scenario
        .run(
            &DemoOptions {
                seed: 1,
                ..DemoOptions::default()
            },
            None,
        )
        .expect("no pcap, no I/O")
}
