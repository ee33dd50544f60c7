//! Congestion-control rules pinned to exact values through the public
//! [`Congestion`] API (one controller, fed ACK samples on a virtual clock):
//! the algorithm names and their spellings; RFC 5681 slow start while
//! cwnd < ssthresh, congestion avoidance from cwnd = ssthresh on, one SMSS
//! per cwnd of acknowledged bytes with the excess carried over, ssthresh =
//! max(FlightSize/2, 2·SMSS) on a timeout, the one-segment loss window and
//! the restart window after idle; an MSS change; deflating cwnd when fast
//! recovery ends (RFC 6582); RFC 9406 HyStart++ (CSS on an RTT rise of η,
//! growth divided by CSS_GROWTH_DIVISOR = 4, samples ignored outside slow
//! start, a baseline tie staying in CSS, a reset on congestion, saturating
//! µs arithmetic); and RFC 9438 CUBIC: K = cbrt(W_max·(1−β)/C) with the
//! curve evaluated one RTT ahead, fast convergence (W_max = cwnd·(1+β)/2
//! only below the old W_max), the 2·SMSS ssthresh floor, the Reno-friendly
//! W_est with α = 3(1−β)/(1+β) below W_max and 1 from it, the 1.5·cwnd cap
//! on the curve, W_max = cwnd after a slow-start exit without loss (§4.10),
//! and a fresh epoch after idle.
//!
//! A "probe" clones the controller and acknowledges one whole window in a
//! single ACK: RFC 9438 §4.4 grows cwnd by (target − cwnd)/cwnd per acked
//! segment, so a window's worth of ACKs lands cwnd exactly on
//! ⌊target·SMSS⌋ bytes, where target = max(W_est, min(W_cubic(t + RTT),
//! 1.5·cwnd)).

use synack_tcp::congestion::{AckSample, Congestion};
use synack_tcp::{Algorithm, Duration, Instant};

const MSS: u32 = 1000;

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

/// An ACK delivering `acked` bytes from a sender that filled cwnd, with no
/// RTT sample.
fn ack(now: Instant, acked: u32, srtt: Duration) -> AckSample {
    AckSample {
        now,
        acked,
        rtt: None,
        srtt,
        round_end: false,
        cwnd_limited: true,
    }
}

/// An RTT sample from an application-limited sender: only HyStart++ acts
/// on it, cwnd does not grow.
fn rtt_sample(rtt: Duration) -> AckSample {
    AckSample {
        now: Instant::ZERO,
        acked: MSS,
        rtt: Some(rtt),
        srtt: rtt,
        round_end: false,
        cwnd_limited: false,
    }
}

/// The ACK that ends a round trip (application-limited, no RTT sample).
fn round_end() -> AckSample {
    AckSample {
        now: Instant::ZERO,
        acked: MSS,
        rtt: None,
        srtt: Duration::from_millis(50),
        round_end: true,
        cwnd_limited: false,
    }
}

fn rounds(c: &mut Congestion, n: usize) {
    for _ in 0..n {
        c.on_ack(&round_end());
    }
}

fn samples(c: &mut Congestion, rtt: Duration) {
    for _ in 0..8 {
        c.on_ack(&rtt_sample(rtt));
    }
}

/// A round of eight 50 ms samples, then eight of 70 ms: 70 ≥ 50 + η with
/// η = clamp(50/8, 4, 16) = 6.25 ms, so HyStart++ enters CSS (baseline 70 ms).
fn into_css(c: &mut Congestion) {
    samples(c, Duration::from_millis(50));
    rounds(c, 1);
    samples(c, Duration::from_millis(70));
}

/// Slow start with two-segment ACKs (RFC 3465's limit) until cwnd is `target`.
fn slow_start_to(c: &mut Congestion, target: u32) {
    while c.cwnd() < target {
        c.on_ack(&ack(Instant::ZERO, 2 * c.mss(), Duration::from_millis(50)));
    }
    assert_eq!(c.cwnd(), target);
}

/// cwnd after one ACK covering the whole window at `now` with this `srtt`,
/// on a copy of `c`.
fn probe(c: &Congestion, now: Instant, srtt_secs: f64) -> u32 {
    let mut c = c.clone();
    let window = c.cwnd();
    c.on_ack(&ack(now, window, Duration::from_secs_f64(srtt_secs)));
    c.cwnd()
}

/// CUBIC, cwnd grown to 100 segments in slow start, then a congestion
/// event: W_max = 100, cwnd = ssthresh = 70 segments.
fn cubic_after_loss_at_100() -> Congestion {
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 10, false);
    slow_start_to(&mut c, 100_000);
    c.on_congestion_event(Instant::ZERO, 100_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (70_000, 70_000));
    c
}

#[test]
fn algorithm_names_are_newreno_and_cubic_and_parse_back() {
    assert_eq!(Algorithm::NewReno.name(), "newreno");
    assert_eq!(Algorithm::Cubic.name(), "cubic");
    assert_eq!("newreno".parse::<Algorithm>(), Ok(Algorithm::NewReno));
    assert_eq!("reno".parse::<Algorithm>(), Ok(Algorithm::NewReno));
    assert_eq!("cubic".parse::<Algorithm>(), Ok(Algorithm::Cubic));
    for a in [Algorithm::NewReno, Algorithm::Cubic] {
        assert_eq!(a.name().parse::<Algorithm>(), Ok(a));
    }
    let err = "bbr".parse::<Algorithm>().unwrap_err();
    assert!(err.contains("'bbr'"), "{err}");
}

#[test]
fn slow_start_lasts_exactly_while_cwnd_is_below_ssthresh() {
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    assert!(c.in_slow_start(), "ssthresh starts arbitrarily high");
    c.on_congestion_event(Instant::ZERO, 30_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (15_000, 15_000));
    assert!(
        !c.in_slow_start(),
        "cwnd = ssthresh is congestion avoidance"
    );
    c.on_rto(Instant::ZERO, 30_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (1000, 15_000));
    assert!(c.in_slow_start());
}

#[test]
fn newreno_avoidance_starts_at_cwnd_equal_to_ssthresh() {
    // RFC 5681 §3.1: slow start while cwnd < ssthresh; at cwnd = ssthresh
    // one ACK of a segment adds 1/cwnd of a segment, not a whole one.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    c.on_congestion_event(Instant::ZERO, 30_000);
    c.on_ack(&ack(ms(10), 1000, Duration::from_millis(50)));
    assert_eq!(c.cwnd(), 15_000);
}

#[test]
fn newreno_avoidance_adds_one_segment_per_window_and_carries_the_excess() {
    // cwnd = 10 000 in avoidance; ACKs of 1500 bytes. The 7th brings 10 500
    // ≥ cwnd: +1 SMSS, and the 500 bytes beyond count towards the next
    // increase, which needs 11 000 (7 more ACKs: 500 + 7·1500 = 11 000).
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    c.on_congestion_event(Instant::ZERO, 20_000);
    assert_eq!(c.cwnd(), 10_000);
    let mut after = Vec::new();
    for _ in 0..14 {
        c.on_ack(&ack(ms(10), 1500, Duration::from_millis(50)));
        after.push(c.cwnd());
    }
    assert_eq!(after[5], 10_000);
    assert_eq!(after[6], 11_000);
    assert_eq!(after[12], 11_000, "the excess is 500 bytes, not more");
    assert_eq!(after[13], 12_000, "the excess is 500 bytes, not less");
}

#[test]
fn an_rto_sets_ssthresh_to_half_the_flight_but_at_least_two_segments() {
    // RFC 5681 §3.1 (eq. 4) and §3.1: cwnd = 1 SMSS after the timeout.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    c.on_rto(Instant::ZERO, 40_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (1000, 20_000));
    c.on_rto(Instant::ZERO, 1000);
    assert_eq!((c.cwnd(), c.ssthresh()), (1000, 2000));
}

#[test]
fn a_lost_syn_leaves_a_loss_window_of_one_segment() {
    // RFC 5681 §3.1: the initial window after a lost SYN is one segment.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    assert_eq!(c.cwnd(), 10_000);
    c.set_loss_window();
    assert_eq!(c.cwnd(), 1000);
}

#[test]
fn a_new_mss_rescales_the_windows_and_cwnd_never_falls_below_it() {
    let mut c = Congestion::new(Algorithm::NewReno, 536, 1, false);
    assert_eq!(c.cwnd(), 536);
    c.set_mss(1460);
    assert_eq!((c.mss(), c.cwnd()), (1460, 1460));
    c.on_rto(Instant::ZERO, 1000);
    assert_eq!(
        (c.cwnd(), c.ssthresh()),
        (1460, 2920),
        "2·SMSS of the new MSS"
    );
}

#[test]
fn leaving_recovery_deflates_cwnd_to_ssthresh_but_not_below_one_segment() {
    // RFC 6582 §3.2 step 3.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    c.on_congestion_event(Instant::ZERO, 30_000);
    for _ in 0..15 {
        c.on_ack(&ack(ms(10), 1000, Duration::from_millis(50)));
    }
    assert_eq!((c.cwnd(), c.ssthresh()), (16_000, 15_000));
    c.on_recovery_end();
    assert_eq!(c.cwnd(), 15_000);
    // ssthresh below one (new, larger) segment: one segment stays.
    c.on_congestion_event(Instant::ZERO, 1000);
    c.set_mss(4000);
    assert_eq!((c.cwnd(), c.ssthresh()), (4000, 2000));
    c.on_recovery_end();
    assert_eq!(c.cwnd(), 4000);
}

#[test]
fn after_idle_cwnd_restarts_from_at_most_the_initial_window() {
    // RFC 5681 §4.1 with RFC 6928's IW: 10 segments of 1000 bytes.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, false);
    slow_start_to(&mut c, 30_000);
    c.on_idle_restart();
    assert_eq!(c.cwnd(), 10_000);
    c.on_rto(Instant::ZERO, 10_000);
    c.on_idle_restart();
    assert_eq!(c.cwnd(), 1000, "a smaller window is kept");
}

#[test]
fn hystart_enters_css_on_an_rtt_rise_and_css_grows_a_quarter_as_fast() {
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(50)));
    assert_eq!(c.cwnd(), 11_000, "ordinary slow start: +1 SMSS per SMSS");
    into_css(&mut c);
    assert!(c.in_css());
    assert!(c.in_slow_start());
    // RFC 9406 §4.2: cwnd += min(acked, L·SMSS) / CSS_GROWTH_DIVISOR.
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(70)));
    assert_eq!(c.cwnd(), 11_250);
    c.on_ack(&ack(Instant::ZERO, 4000, Duration::from_millis(70)));
    assert_eq!(c.cwnd(), 11_750, "ABC caps 4000 at 2000, then / 4");
}

#[test]
fn hystart_ignores_rtt_samples_outside_slow_start() {
    // After a congestion event cwnd = ssthresh: avoidance, where HyStart++
    // has nothing to decide; rising RTTs must not put it in CSS.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    c.on_congestion_event(Instant::ZERO, 20_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (10_000, 10_000));
    into_css(&mut c);
    assert!(!c.in_css());
    assert_eq!((c.cwnd(), c.ssthresh()), (10_000, 10_000));
}

#[test]
fn hystart_stays_in_css_when_the_round_min_rtt_equals_the_baseline() {
    // RFC 9406 §4.2: only currentRoundMinRTT < cssBaselineMinRtt is a
    // spurious exit that resumes slow start.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    into_css(&mut c);
    rounds(&mut c, 1);
    samples(&mut c, Duration::from_millis(70));
    assert!(c.in_css(), "70 ms is not below the 70 ms baseline");
    rounds(&mut c, 1);
    samples(&mut c, Duration::from_millis(69));
    assert!(!c.in_css(), "69 ms is");
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(69)));
    assert_eq!(c.cwnd(), 11_000, "full-speed slow start again");
}

#[test]
fn css_ends_slow_start_after_five_rounds_with_ssthresh_at_cwnd() {
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    into_css(&mut c);
    rounds(&mut c, 4);
    assert!(c.in_css() && c.in_slow_start());
    rounds(&mut c, 1);
    assert!(!c.in_css() && !c.in_slow_start());
    assert_eq!((c.cwnd(), c.ssthresh()), (10_000, 10_000));
}

#[test]
fn a_congestion_event_resets_hystart_so_the_next_slow_start_is_full_speed() {
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    into_css(&mut c);
    c.on_congestion_event(Instant::ZERO, 20_000);
    assert!(!c.in_css());
    c.on_rto(Instant::ZERO, 20_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (1000, 10_000));
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(50)));
    assert_eq!(c.cwnd(), 2000, "not 1250: CSS is over");
}

#[test]
fn after_a_loss_slow_start_is_standard_and_hystart_stays_off() {
    // RFC 9406 §4.2: HyStart++ only for the initial slow start. After an
    // RTO, slow start runs from one segment to the ssthresh the loss set,
    // and a rising RTT on the way no longer moves it to CSS.
    for congestion_event_first in [false, true] {
        let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
        if congestion_event_first {
            c.on_congestion_event(Instant::ZERO, 40_000);
        }
        c.on_rto(Instant::ZERO, 40_000);
        let ssthresh = c.ssthresh();
        assert!(ssthresh >= 10_000 && c.cwnd() == 1000);
        into_css(&mut c);
        assert!(!c.in_css());
        let before = c.cwnd();
        c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(90)));
        assert_eq!(c.cwnd(), before + 1000, "full-speed slow start");
        slow_start_to(&mut c, ssthresh);
        assert!(!c.in_slow_start());
    }
}

#[test]
fn hystart_counts_an_rtt_of_u32_max_microseconds_as_a_rise() {
    // The largest RTT the µs fields hold is a sample like any other, not
    // the "no value" marker: the round's minimum rises far above 50 ms + η.
    let mut c = Congestion::new(Algorithm::NewReno, MSS, 10, true);
    samples(&mut c, Duration::from_millis(50));
    rounds(&mut c, 1);
    samples(&mut c, Duration::from_micros(u64::from(u32::MAX)));
    assert!(c.in_css());
}

#[test]
fn cubic_k_is_the_cube_root_of_w_max_times_one_minus_beta_over_c() {
    // W_max = 100 segments, cwnd = β·W_max = 70: K = cbrt(100·0.3/0.4) =
    // cbrt(75) = 4.2172 s. A probe at the start of the epoch evaluates
    // W_cubic(t + RTT) with t = 0, so the RTT stands for the time.
    let c = cubic_after_loss_at_100();
    // Just before K the curve is below W_max, just after it above.
    assert_eq!(probe(&c, Instant::ZERO, 4.21), 99_999);
    assert_eq!(probe(&c, Instant::ZERO, 4.23), 100_000);
    // W_cubic(K + 1 s) = W_max + C·1³ = 100.4 (+ the 0.84 ms beyond K).
    assert_eq!(probe(&c, Instant::ZERO, 5.218), 100_401);
    // Concave: W_cubic(2 s) = 100 − 0.4·2.2172³ = 95.64.
    assert_eq!(probe(&c, Instant::ZERO, 2.0), 95_640);
    // At t + RTT = 0 the curve is at 70: W_est = 70 + α = 70.529 wins.
    assert_eq!(probe(&c, Instant::ZERO, 0.0), 70_529);
}

#[test]
fn cubic_ssthresh_is_beta_times_cwnd_but_at_least_two_segments() {
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 2, false);
    assert_eq!(c.cwnd(), 2000);
    c.on_congestion_event(Instant::ZERO, 2000);
    assert_eq!((c.cwnd(), c.ssthresh()), (2000, 2000), "not 0.7·2000");
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 2, false);
    c.on_rto(Instant::ZERO, 2000);
    assert_eq!((c.cwnd(), c.ssthresh()), (1000, 2000));
}

#[test]
fn cubic_fast_convergence_lowers_w_max_when_cwnd_had_not_regained_it() {
    // RFC 9438 §4.7: a second loss at 70 segments < W_max = 100 sets
    // W_max = 70·(1 + β)/2 = 59.5; cwnd = 0.7·70 = 49, and
    // K = cbrt((59.5 − 49)/0.4) = cbrt(26.25) = 2.9720 s.
    let mut c = cubic_after_loss_at_100();
    c.on_congestion_event(Instant::ZERO, 70_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (49_000, 49_000));
    assert_eq!(probe(&c, Instant::ZERO, 2.95), 59_499);
    assert_eq!(probe(&c, Instant::ZERO, 3.0), 59_500);
}

#[test]
fn cubic_loss_at_exactly_w_max_keeps_w_max() {
    // The window regains exactly W_max = 100 (one window of ACKs just
    // after K), then is lost there: cwnd < W_max is false, no fast
    // convergence, W_max stays 100 and K is cbrt(75) again.
    let mut c = cubic_after_loss_at_100();
    c.on_ack(&ack(Instant::ZERO, 70_000, Duration::from_secs_f64(4.23)));
    assert_eq!(c.cwnd(), 100_000);
    c.on_congestion_event(ms(5000), 100_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (70_000, 70_000));
    assert_eq!(probe(&c, ms(6000), 4.21), 99_999);
    assert_eq!(probe(&c, ms(6000), 4.23), 100_000);
}

#[test]
fn cubic_follows_the_reno_friendly_estimate_with_alpha_below_w_max() {
    // W_max = 10, cwnd = 7 segments, K = cbrt(7.5) = 1.957 s; RTT 10 ms:
    // W_cubic(0.01) = 10 − 0.4·1.947³ = 7.048. Each ACK of 2 segments adds
    // α·2/cwnd to W_est, α = 3·0.3/1.7 = 0.5294: W_est = 7.1513 > 7.048, so
    // cwnd += (7.1513 − 7)/7 · 2000 = 43.2 bytes, and the fraction carries.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 10, false);
    c.on_congestion_event(Instant::ZERO, 10_000);
    assert_eq!(c.cwnd(), 7000);
    let mut after = Vec::new();
    for _ in 0..4 {
        c.on_ack(&ack(Instant::ZERO, 2000, Duration::from_millis(10)));
        after.push(c.cwnd());
    }
    assert_eq!(after, [7043, 7116, 7210, 7318]);
}

#[test]
fn cubic_w_est_grows_with_alpha_one_from_w_max_on() {
    // RTO at 2 segments: W_max = 2, ssthresh = 2 segments, cwnd = 1; one
    // ACK regains 2 = ssthresh. The avoidance epoch starts at cwnd = W_max
    // = W_est = 2, K = 0: W_est is not below W_max, so α = 1 and one
    // segment adds 1/2 segment: W_est = 2.5, cwnd += 0.5/2 · 1000.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 2, false);
    c.on_rto(Instant::ZERO, 2000);
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(10)));
    assert_eq!((c.cwnd(), c.ssthresh()), (2000, 2000));
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(10)));
    assert_eq!(c.cwnd(), 2250);
}

#[test]
fn cubic_caps_the_curve_at_one_and_a_half_cwnd_when_it_ties_w_est() {
    // RFC 9438 §4.3: cwnd follows W_est only if W_cubic < W_est; otherwise
    // the target is W_cubic, at most 1.5·cwnd (§4.4). Epoch start at cwnd
    // = W_max = 2 (K = 0), RTT 1.5 s: W_cubic = 2 + 0.4·1.5³ = 3.35, and a
    // cumulative ACK of 2.7 segments (more than cwnd, as after a timeout)
    // makes W_est = 2 + 2.7/2 = 3.35 too. The tie is the cubic region:
    // target = 1.5·2 = 3, cwnd += (3 − 2)/2 · 2700.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 2, false);
    c.on_rto(Instant::ZERO, 2000);
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(10)));
    c.on_ack(&ack(Instant::ZERO, 2700, Duration::from_millis(1500)));
    assert_eq!(c.cwnd(), 3350);
}

#[test]
fn cubic_leaving_slow_start_without_loss_sets_w_max_to_cwnd() {
    // RFC 9438 §4.10: HyStart++ ends slow start at 100 segments without a
    // loss; W_max = cwnd = 100 and K = 0. One RTT (1 s) of ACKs: W_cubic =
    // 100.4, W_est = 100 + 1 (α = 1 at W_max) = 101.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 10, true);
    slow_start_to(&mut c, 100_000);
    into_css(&mut c);
    rounds(&mut c, 5);
    assert_eq!((c.cwnd(), c.ssthresh()), (100_000, 100_000));
    assert_eq!(probe(&c, Instant::ZERO, 1.0), 101_000);
    // That W_max counts for fast convergence: after idle, slow start to 50
    // segments and a loss there, 50 < 100 so W_max = 50·0.85 = 42.5,
    // cwnd = 35, K = cbrt(7.5/0.4) = 2.6566 s.
    c.on_idle_restart();
    assert_eq!(c.cwnd(), 10_000);
    slow_start_to(&mut c, 50_000);
    c.on_congestion_event(Instant::ZERO, 50_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (35_000, 35_000));
    assert_eq!(probe(&c, Instant::ZERO, 2.64), 42_499);
    assert_eq!(probe(&c, Instant::ZERO, 2.67), 42_500);
}

#[test]
fn cubic_slow_start_below_ssthresh_sets_no_w_max() {
    // The same path without HyStart++: slow start never ends (ssthresh is
    // unbounded), so the first loss, at 50 segments after an idle restart,
    // finds no W_max: W_max = 50, K = cbrt(15/0.4) = 3.3472 s.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 10, false);
    slow_start_to(&mut c, 100_000);
    c.on_idle_restart();
    slow_start_to(&mut c, 50_000);
    c.on_congestion_event(Instant::ZERO, 50_000);
    assert_eq!((c.cwnd(), c.ssthresh()), (35_000, 35_000));
    assert_eq!(probe(&c, Instant::ZERO, 3.33), 49_999);
    assert_eq!(probe(&c, Instant::ZERO, 3.36), 50_000);
}

#[test]
fn cubic_after_idle_starts_a_new_epoch_instead_of_jumping_along_the_old_curve() {
    // W_max = 10, cwnd = 7 segments (≤ IW, so idle keeps it). The first
    // ACK starts an epoch at t = 0 (RTT 100 ms): W_cubic(0.1) = 7.438,
    // cwnd += 0.438/7 · 1000 = 62.
    let mut c = Congestion::new(Algorithm::Cubic, MSS, 10, false);
    c.on_congestion_event(Instant::ZERO, 10_000);
    c.on_ack(&ack(Instant::ZERO, 1000, Duration::from_millis(100)));
    assert_eq!(c.cwnd(), 7062);
    // 10 s idle. The curve restarts from 7.062 segments (K = 1.944 s):
    // W_cubic(0.1) = 7.49 < W_est = 7.062 + α = 7.591. The old epoch would
    // be 10 s in, far past W_max, and cwnd would jump by the 1.5× cap.
    c.on_idle_restart();
    assert_eq!(c.cwnd(), 7062);
    c.on_ack(&ack(ms(10_000), 7062, Duration::from_millis(100)));
    assert_eq!(c.cwnd(), 7591);
}
