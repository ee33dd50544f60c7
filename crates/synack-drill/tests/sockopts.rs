//! Socket options and assertions the upstream suites use beyond the
//! development corpus: TCP_MAXSEG, SO_SNDBUF / SO_RCVBUF as inputs,
//! options set on a listener, `tcpi_options`, EWOULDBLOCK.

use synack_drill::run::Outcome;
use synack_drill::{run_script, Profile, RunOptions};

fn run(profile: Profile, text: &str) -> Outcome {
    run_script(
        text,
        &RunOptions {
            profile,
            tolerance_usecs: None,
        },
    )
}

fn passes(profile: Profile, text: &str) {
    let out = run(profile, text);
    assert!(matches!(out, Outcome::Pass { .. }), "{out:?}");
}

fn fails_at(profile: Profile, text: &str, want: usize) {
    match run(profile, text) {
        Outcome::Fail { line, .. } => assert_eq!(line, want),
        other => panic!("expected a failure at line {want}: {other:?}"),
    }
}

#[test]
fn tcp_maxseg_limits_the_mss_announced_and_read_back() {
    let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], 4) = 0\n\
        +0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0\n\
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n\
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n\
        +0 > S 0:0(0) <mss 1100,sackOK,TS val 100 ecr 0,nop,wscale 8>\n\
        +.1 < S. 0:0(0) ack 1 win 32792 <mss 1460,nop,wscale 7>\n\
        +0 > . 1:1(0) ack 1\n\
        +0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0\n";
    passes(Profile::Linux, s);
    // Below TCP_MIN_MSS it is refused.
    passes(
        Profile::Linux,
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
         +0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [40], 4) = -1 EINVAL (Invalid argument)\n",
    );
}

#[test]
fn an_option_set_on_a_listener_reaches_its_connections() {
    let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 bind(3, ..., ...) = 0\n\
        +0 listen(3, 1) = 0\n\
        +0 setsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], 4) = 0\n\
        +.1 < S 0:0(0) win 32792 <mss 1300,nop,wscale 7>\n\
        +0 > S. 0:0(0) ack 1 <mss 1100,nop,wscale 8>\n\
        +.1 < . 1:1(0) ack 1 win 257\n\
        +0 accept(3, ..., ...) = 4\n\
        +0 getsockopt(4, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0\n";
    passes(Profile::Linux, s);
}

#[test]
fn buffer_sizes_are_inputs_linux_doubles_them() {
    let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [10000], 4) = 0\n\
        +0 getsockopt(3, SOL_SOCKET, SO_SNDBUF, [20000], [4]) = 0\n\
        +0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [10000], 4) = 0\n\
        +0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [20000], [4]) = 0\n";
    passes(Profile::Linux, s);
    let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [10000], 4) = 0\n\
        +0 getsockopt(3, SOL_SOCKET, SO_SNDBUF, [10000], [4]) = 0\n";
    passes(Profile::FreeBsd, s);
}

#[test]
fn a_small_send_buffer_makes_a_nonblocking_write_short() {
    let s = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [5000], 4) = 0\n\
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n\
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n\
        +0 > S 0:0(0) <...>\n\
        +.1 < S. 0:0(0) ack 1 win 32792 <mss 1460,nop,wscale 7>\n\
        +0 > . 1:1(0) ack 1\n\
        +0 write(3, ..., 50000) = 10000\n\
        +0 write(3, ..., 1000) = -1 EWOULDBLOCK (Operation would block)\n";
    passes(Profile::Linux, s);
}

#[test]
fn tcpi_options_is_checked() {
    let open = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n\
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n\
        +0 > S 0:0(0) <...>\n\
        +.1 < S. 0:0(0) ack 1 win 32792 <mss 1460,sackOK,nop,wscale 7>\n\
        +0 > . 1:1(0) ack 1\n";
    // SACK (2) and window scaling (4), no timestamps (1).
    passes(
        Profile::Linux,
        &format!("{open}+0 %{{ assert tcpi_options == 6 }}%\n"),
    );
    fails_at(
        Profile::Linux,
        &format!("{open}+0 %{{ assert tcpi_options == 0 }}%\n"),
        7,
    );
}
