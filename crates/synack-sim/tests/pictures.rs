//! Every scenario draws as SVG that parses as XML, with one arrow per
//! segment (a cross on each lost one), one band per state each side went
//! through, the eleven-state machine with each transition the run took
//! lit once, and an HTML page whose step-through has a note per arrow.

mod common;

use synack_device::Fate;
use synack_sim::ladder::LadderOptions;
use synack_sim::lang::Lang;
use synack_sim::scenarios::SCENARIOS;
use synack_sim::svg;
use synack_sim::TraceEvent;

fn class_has(node: &roxmltree::Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split(' ').any(|w| w == class))
}

#[test]
fn every_scenario_draws_one_arrow_per_segment_and_one_band_per_state() {
    for scenario in SCENARIOS {
        let report = common::play(scenario);
        let trace = &report.world.trace;
        let picture = svg::render(trace, &LadderOptions::default(), "10.77.0.1", "10.77.0.2");
        let doc = roxmltree::Document::parse(&picture.svg)
            .unwrap_or_else(|e| panic!("{}: the SVG does not parse: {e}", scenario.name));
        let segments = trace
            .events
            .iter()
            .filter(|e| matches!(e, TraceEvent::Segment { .. }))
            .count();
        let lost = trace
            .events
            .iter()
            .filter(|e| {
                matches!(e, TraceEvent::Segment { outcome, .. } if outcome.fate != Fate::Queued)
            })
            .count();
        let transitions = trace
            .events
            .iter()
            .filter(|e| matches!(e, TraceEvent::State { .. }))
            .count();
        let arrows: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("g") && class_has(n, "segment"))
            .collect();
        assert_eq!(arrows.len(), segments, "{}", scenario.name);
        assert_eq!(picture.steps.len(), segments, "{}", scenario.name);
        for a in &arrows {
            assert!(
                a.children().any(|c| c.has_tag_name("title")),
                "{}: an arrow without its explanation",
                scenario.name
            );
            assert!(a.children().any(|c| c.has_tag_name("line")));
        }
        let crossed = arrows
            .iter()
            .filter(|a| class_has(a, "lost"))
            .filter(|a| a.children().any(|c| class_has(&c, "cross")))
            .count();
        assert_eq!(
            crossed, lost,
            "{}: a cross on each lost segment",
            scenario.name
        );
        // Each side starts in a band of its first state; each transition
        // opens another.
        let bands = doc
            .descendants()
            .filter(|n| n.has_tag_name("g") && class_has(n, "state"))
            .count();
        let sides_seen = [synack_device::Side::A, synack_device::Side::B]
            .iter()
            .filter(|s| !trace.states(**s).is_empty())
            .count();
        assert_eq!(bands, transitions + sides_seen, "{}", scenario.name);

        // The state machine: the transitions either side took, each once.
        let machine = roxmltree::Document::parse(&picture.machine)
            .unwrap_or_else(|e| panic!("{}: the state machine does not parse: {e}", scenario.name));
        let mut taken: Vec<(synack_tcp::State, synack_tcp::State)> = Vec::new();
        for e in &trace.events {
            if let TraceEvent::State { transition: t, .. } = e {
                if t.from != t.to && !taken.contains(&(t.from, t.to)) {
                    taken.push((t.from, t.to));
                }
            }
        }
        let lit = machine
            .descendants()
            .filter(|n| n.has_tag_name("g") && class_has(n, "taken"))
            .count();
        assert_eq!(lit, taken.len(), "{}: {taken:?}", scenario.name);
        assert_eq!(
            machine
                .descendants()
                .filter(|n| n.has_tag_name("g") && class_has(n, "stbox"))
                .count(),
            11
        );

        let page = svg::html_page(
            scenario.name,
            scenario.about.en,
            &picture,
            &report.summary,
            Lang::En,
        );
        assert!(page.contains(&picture.machine));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(&picture.svg));
        assert_eq!(
            page.matches("<li id=\"note").count(),
            segments,
            "{}: a footnote per arrow",
            scenario.name
        );
    }
}
