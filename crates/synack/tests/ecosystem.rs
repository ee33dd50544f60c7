//! Unmodified ecosystem code over synack's tokio sockets, on a simulated
//! link and virtual time (the runtime starts paused): a line codec, a
//! hyper HTTP/1.1 server and client, and TLS with rustls.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use synack::{sim_link, Clock, Stack, StackConfig};
use synack_device::{Link, LinkConfig};
use synack_stack::HostConfig;
use synack_tcp::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Framed, LinesCodec};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn pair(loss: f64) -> (Stack, Stack) {
    let link = LinkConfig::ideal()
        .with_delay(Duration::from_millis(5))
        .with_loss(loss);
    let (a, b) = sim_link(Link::symmetric(link, 11));
    let clock = Clock::new();
    let mk = |addr: &str, seed: u8| {
        let mut c = StackConfig::new(HostConfig::new(addr.parse().unwrap()));
        c.entropy = Some([seed; 32]);
        c.clock = Some(clock);
        c
    };
    (
        Stack::spawn(mk("10.77.0.1", 1), a).unwrap(),
        Stack::spawn(mk("10.77.0.2", 2), b).unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn framed_lines_codec() {
    let (client, server) = pair(0.01);
    let l = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:4000"))
        .await
        .unwrap();
    let srv = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let mut f = Framed::new(s, LinesCodec::new());
        while let Some(line) = f.next().await {
            let line = line.unwrap();
            f.send(line.to_uppercase()).await.unwrap();
        }
    });
    let c = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:4000"))
        .await
        .unwrap();
    let mut f = Framed::new(c, LinesCodec::new());
    for i in 0..200 {
        f.send(format!("line {i} over synack")).await.unwrap();
        let back = f.next().await.unwrap().unwrap();
        assert_eq!(back, format!("LINE {i} OVER SYNACK"));
    }
    drop(f);
    srv.await.unwrap();
}

async fn hello(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let body = format!("you asked for {}", req.uri().path());
    Ok(hyper::Response::new(Full::new(Bytes::from(
        body.repeat(1000),
    ))))
}

#[tokio::test(start_paused = true)]
async fn hyper_server_and_client() {
    let (client, server) = pair(0.01);
    let l = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:80"))
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), hyper::service::service_fn(hello))
                    .await
                    .unwrap();
            });
        }
    });
    let c = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:80"))
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(c))
        .await
        .unwrap();
    tokio::spawn(conn);
    for path in ["/a", "/bb", "/ccc"] {
        let req = hyper::Request::get(path)
            .header("host", "10.77.0.2")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert!(resp.status().is_success());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, format!("you asked for {path}").repeat(1000));
    }
}

#[tokio::test(start_paused = true)]
async fn tls_with_rustls() {
    let (client, server) = pair(0.01);
    let ck = rcgen::generate_simple_self_signed(vec!["synack.test".to_string()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        ck.key_pair.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let scfg = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let ccfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let l = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:443"))
        .await
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(scfg));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let want = data.clone();
    let srv = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let mut t = acceptor.accept(s).await.unwrap();
        t.write_all(&data).await.unwrap();
        t.shutdown().await.unwrap();
    });
    let c = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:443"))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("synack.test").unwrap();
    let mut t = tokio_rustls::TlsConnector::from(Arc::new(ccfg))
        .connect(name, c)
        .await
        .unwrap();
    let mut got = Vec::new();
    t.read_to_end(&mut got).await.unwrap();
    srv.await.unwrap();
    assert!(got == want, "TLS stream differs");
}
