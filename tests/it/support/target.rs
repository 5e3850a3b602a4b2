//! A stand-in target on loopback, for tests that need a system under test of their own making.

/// A stand-in target on loopback: every request's path, headers and body go to `handle`, whose
/// status and body are the answer. Returns the server's base URL; it serves until the test ends.
pub async fn serve<F, Fut>(handle: F) -> String
where
    F: Fn(String, hyper::HeaderMap, bytes::Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = (u16, String)> + Send + 'static,
{
    use http_body_util::{BodyExt, Full};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handle = handle.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let handle = handle.clone();
                    async move {
                        let path = request.uri().path().to_owned();
                        let headers = request.headers().clone();
                        let body = request.into_body().collect().await?.to_bytes();
                        let (status, answer) = handle(path, headers, body).await;
                        let mut response =
                            hyper::Response::new(Full::new(bytes::Bytes::from(answer)));
                        *response.status_mut() =
                            hyper::StatusCode::from_u16(status).expect("a valid status");
                        Ok::<_, hyper::Error>(response)
                    }
                },
            );
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    url
}
