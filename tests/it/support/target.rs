//! A stand-in target on loopback, for tests that need a system under test of their own making.

/// An answer of a stand-in target: status, headers (name, value) and body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// A stand-in target on loopback: every request's path, headers and body go to `handle`, whose
/// status and body are the answer. Returns the server's base URL; it serves until the test ends.
pub async fn serve<F, Fut>(handle: F) -> String
where
    F: Fn(String, hyper::HeaderMap, bytes::Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = (u16, String)> + Send + 'static,
{
    serve_http(move |parts: hyper::http::request::Parts, body| {
        let answer = handle(parts.uri.path().to_owned(), parts.headers, body);
        async move {
            let (status, body) = answer.await;
            (status, Vec::new(), body)
        }
    })
    .await
}

/// Like [`serve`], for a target that needs the whole request (method, query) and answers headers
/// too (redirects, cookies).
pub async fn serve_http<F, Fut>(handle: F) -> String
where
    F: Fn(hyper::http::request::Parts, bytes::Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Answer> + Send + 'static,
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
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let (status, headers, answer) = handle(parts, body).await;
                        let mut response =
                            hyper::Response::new(Full::new(bytes::Bytes::from(answer)));
                        *response.status_mut() =
                            hyper::StatusCode::from_u16(status).expect("a valid status");
                        for (name, value) in headers {
                            response.headers_mut().append(
                                hyper::header::HeaderName::from_bytes(name.as_bytes())
                                    .expect("a header name"),
                                hyper::header::HeaderValue::from_str(&value)
                                    .expect("a header value"),
                            );
                        }
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
