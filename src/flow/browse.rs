//! The `sso_login` step: a browser without a screen ([`login`]). It sends the start request,
//! then follows what a browser follows, hop by hop: a redirect's `Location`, and an HTML page
//! whose POST form submits itself (a SAML IdP's answer). A cookie jar per origin ([`Jar`])
//! carries the sessions; a user-selection parameter tells the identity provider mock who logs
//! in. Safety first: it follows only URLs of the target and of this run's mocks ([`Origins`]),
//! so a login never reaches a real third-party host.
//!
//! A `request` step with `follow_redirects: true` goes the same way ([`follow_redirects`]),
//! following redirects only (no forms, no user parameter).

use std::collections::BTreeMap;

use reqwest::Url;
use time::OffsetDateTime;

use super::{FlowContext, receive, render};
use crate::errors;
use crate::observe::{Hop, ReceivedResponse, StepObservation};
use crate::scenario::model::{RequestSpec, SsoLogin, UserSelection};
use crate::secrets::Secrets;

/// Statuses whose `Location` a browser follows (RFC 9110 §15.4).
const REDIRECTS: &[u16] = &[301, 302, 303, 307, 308];

/// Drive `login`: on success the final response and the cookies of the jar that capture can
/// read (the final URL's origin first, then the target's); on failure `None`, with the reason in
/// `observation.failure`. Every hop lands in `observation.hops`.
pub(super) async fn login(
    login: &SsoLogin,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
    observation: &mut StepObservation,
) -> Option<(ReceivedResponse, Vec<(String, String)>)> {
    let how = Browse {
        step: "sso_login",
        forms: true,
        max_hops: login.max_hops,
        user: login.user.as_ref(),
        idp: login.idp.as_deref(),
    };
    browse(&login.start, &how, ctx, captures, observation).await
}

/// Send `request` and follow its redirects, at most `max_redirects`, as [`login`] does (the
/// same origins, the same cookie jar) but without its forms and user parameter: the final
/// response and the jar's cookies, or `None` with the reason in `observation.failure`. Every
/// hop lands in `observation.hops`.
pub(super) async fn follow_redirects(
    request: &RequestSpec,
    max_redirects: u32,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
    observation: &mut StepObservation,
) -> Option<(ReceivedResponse, Vec<(String, String)>)> {
    let how = Browse {
        step: "follow_redirects",
        forms: false,
        max_hops: max_redirects,
        user: None,
        idp: None,
    };
    browse(request, &how, ctx, captures, observation).await
}

/// What a browse follows and how far.
struct Browse<'a> {
    /// What its failures are prefixed with: `sso_login` or `follow_redirects`.
    step: &'static str,
    /// Whether auto-submitting HTML forms are followed too.
    forms: bool,
    /// Most requests after the first.
    max_hops: u32,
    /// Who logs in, and at which identity provider mock.
    user: Option<&'a UserSelection>,
    idp: Option<&'a str>,
}

async fn browse(
    start: &RequestSpec,
    how: &Browse<'_>,
    ctx: &FlowContext<'_>,
    captures: &BTreeMap<String, String>,
    observation: &mut StepObservation,
) -> Option<(ReceivedResponse, Vec<(String, String)>)> {
    let step = how.step;
    let rendered = match render(start, ctx, captures) {
        Ok(rendered) => rendered,
        Err(failure) => {
            observation.failure = Some(failure.reason);
            return None;
        }
    };
    observation.request = Some(rendered.sent.clone());
    let user = match how.user {
        Some(user) => {
            let vars = |path: &[String]| super::lookup(path, ctx, captures);
            match user.value.render(&vars) {
                Ok(value) => Some((user.param.clone(), value)),
                Err(err) => {
                    observation.failure = Some(err.to_string());
                    return None;
                }
            }
        }
        None => None,
    };
    let idp_origin = how
        .idp
        .and_then(|mock| ctx.mock_urls.get(mock))
        .and_then(|url| origin_of(url));
    let origins = Origins::new(ctx);
    let mut browser = Browser {
        http: ctx.http,
        timeout: start.timeout,
        forms: how.forms,
        jar: Jar::default(),
        secrets: Secrets::new(),
        hops: Vec::new(),
    };
    let mut next = Next {
        method: rendered.sent.method.clone(),
        url: rendered.url,
        headers: rendered.sent.headers.clone(),
        body: rendered.sent.body.clone(),
        content_type: rendered.content_type.map(str::to_string),
    };
    let result = loop {
        let Some(mut url) = Url::parse(&next.url)
            .ok()
            .and_then(|url| origins.reach(&url))
        else {
            break Err(format!(
                "{step}: refusing to follow `{}`: not the target or a mock of this run",
                next.url
            ));
        };
        if let (Some((param, value)), Some(idp)) = (&user, &idp_origin)
            && url.origin().ascii_serialization() == *idp
        {
            set_query_param(&mut url, param, value);
        }
        let response = match browser.send(&next, &url).await {
            Ok(response) => response,
            Err(reason) => {
                break Err(format!(
                    "{step}: hop {} (`{} {url}`): {reason}",
                    browser.hops.len(),
                    next.method
                ));
            }
        };
        let follow = match where_next(&next, &url, &response, how.forms) {
            Ok(follow) => follow,
            Err(reason) => break Err(format!("{step}: {reason}")),
        };
        let Some(follow) = follow else {
            break Ok((response, url));
        };
        if browser.hops.len() > usize::try_from(how.max_hops).unwrap_or(usize::MAX) {
            break Err(too_many_hops(step, how.max_hops, &browser.hops));
        }
        next = follow;
    };
    observation.attempts = u32::try_from(browser.hops.len()).unwrap_or(u32::MAX);
    observation.hops = browser.hops;
    observation.secrets = browser.secrets;
    match result {
        Ok((response, url)) => {
            let mut jar = browser.jar.cookies(&url);
            if let Ok(target) = Url::parse(ctx.target_url) {
                jar.extend(browser.jar.cookies(&target));
            }
            Some((response, jar))
        }
        Err(reason) => {
            observation.failure = Some(reason);
            None
        }
    }
}

/// The next request of the login.
struct Next {
    method: String,
    url: String,
    /// The start's own headers (a browser sends none of them on the hops that follow).
    headers: Vec<(String, String)>,
    body: Option<String>,
    content_type: Option<String>,
}

/// The browser's state across the hops of one login.
struct Browser<'a> {
    http: &'a reqwest::Client,
    timeout: std::time::Duration,
    /// Whether auto-submitting forms are followed (and so recorded as the hop's `form_post`).
    forms: bool,
    jar: Jar,
    secrets: Secrets,
    hops: Vec<Hop>,
}

impl Browser<'_> {
    /// Send `next` to `url` (already reachable), record the hop and the cookies it sets.
    async fn send(&mut self, next: &Next, url: &Url) -> Result<ReceivedResponse, String> {
        let mut hop = Hop {
            method: next.method.clone(),
            url: url.to_string(),
            ..Hop::default()
        };
        add_url_secrets(&mut self.secrets, url.as_str());
        let method = reqwest::Method::from_bytes(next.method.as_bytes())
            .map_err(|_| format!("invalid method `{}`", next.method))?;
        let mut builder = self.http.request(method, url.clone()).timeout(self.timeout);
        if let Some(content_type) = &next.content_type
            && !next
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            builder = builder.header("content-type", content_type.as_str());
        }
        for (name, value) in &next.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(cookie) = self.jar.header(url) {
            self.secrets.add_header("cookie", &cookie);
            builder = builder.header("cookie", cookie);
        }
        if let Some(body) = &next.body {
            self.secrets.add_form(body);
            self.secrets.add_text(body);
            builder = builder.body(body.clone());
        }
        let answer = match builder.send().await {
            Ok(response) => receive(response).await,
            Err(err) => Err(err),
        };
        let response = match answer {
            Ok(response) => response,
            Err(err) => {
                let reason = format!("request failed: {}", errors::one_line(&err));
                hop.error = Some(reason.clone());
                self.hops.push(hop);
                return Err(reason);
            }
        };
        hop.status = Some(response.status);
        for (name, value) in &response.headers {
            self.secrets.add_header(name, value);
            if name == "set-cookie" {
                self.jar.store(url, value, OffsetDateTime::now_utc());
            }
        }
        self.secrets.add_text(&response.body);
        if REDIRECTS.contains(&response.status)
            && let Some(location) = header(&response, "location")
        {
            let resolved = url
                .join(location)
                .map_or_else(|_| location.to_string(), String::from);
            add_url_secrets(&mut self.secrets, &resolved);
            hop.location = Some(resolved);
        } else if let Some(form) = auto_form(&response).filter(|_| self.forms) {
            let action = url
                .join(&form.action)
                .map_or_else(|_| form.action.clone(), String::from);
            hop.form_post = Some(action);
        }
        self.hops.push(hop);
        Ok(response)
    }
}

/// Where `response` (to `sent`, at `url`) sends the browser next: `None` for the final response.
/// Forms count only when `forms` is set.
fn where_next(
    sent: &Next,
    url: &Url,
    response: &ReceivedResponse,
    forms: bool,
) -> Result<Option<Next>, String> {
    if REDIRECTS.contains(&response.status)
        && let Some(location) = header(response, "location")
    {
        let target = url
            .join(location)
            .map_err(|_| format!("invalid `Location` `{location}` in the answer to `{url}`"))?;
        // RFC 9110 §15.4.4: 303 becomes GET; §15.4.2–3: browsers turn a POST answered 301 or
        // 302 into a GET; 307 and 308 keep the method and the body.
        let to_get = match response.status {
            303 => sent.method != "HEAD",
            301 | 302 => sent.method == "POST",
            _ => false,
        };
        let (method, body, content_type) = if to_get {
            ("GET".to_string(), None, None)
        } else {
            (
                sent.method.clone(),
                sent.body.clone(),
                sent.content_type.clone(),
            )
        };
        return Ok(Some(Next {
            method,
            url: target.to_string(),
            headers: Vec::new(),
            body,
            content_type,
        }));
    }
    let Some(form) = auto_form(response).filter(|_| forms) else {
        return Ok(None);
    };
    let action = url.join(&form.action).map_err(|_| {
        format!(
            "invalid form action `{}` in the page at `{url}`",
            form.action
        )
    })?;
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &form.fields {
        body.append_pair(name, value);
    }
    Ok(Some(Next {
        method: "POST".to_string(),
        url: action.to_string(),
        headers: Vec::new(),
        body: Some(body.finish()),
        content_type: Some("application/x-www-form-urlencoded".to_string()),
    }))
}

/// The failure when the login wants more than `max_hops` hops, naming them, and the request
/// repeated most when one was (a redirect loop).
fn too_many_hops(step: &str, max_hops: u32, hops: &[Hop]) -> String {
    let path: Vec<String> = hops
        .iter()
        .map(|hop| {
            let status = hop.status.map(|s| s.to_string()).unwrap_or_default();
            format!("{} {} → {status}", hop.method, hop.url)
        })
        .collect();
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for hop in hops {
        *counts.entry((&hop.method, &hop.url)).or_default() += 1;
    }
    let repeated = counts
        .iter()
        .max_by_key(|(_, count)| **count)
        .filter(|(_, count)| **count > 1)
        .map(|((method, url), count)| {
            format!(" (a redirect loop: `{method} {url}` was requested {count} times)")
        })
        .unwrap_or_default();
    let what = if step == "sso_login" {
        "hops"
    } else {
        "redirects"
    };
    format!(
        "{step}: more than {max_hops} {what}{repeated}: {}",
        path.join(", ")
    )
}

/// The first value of header `name` (lower case).
fn header<'r>(response: &'r ReceivedResponse, name: &str) -> Option<&'r str> {
    response
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
}

/// Track the credentials of a URL's query: secret parameters, and an OAuth authorization code
/// (RFC 6749 §4.1.2), a credential however plain its name.
fn add_url_secrets(secrets: &mut Secrets, url: &str) {
    let Some((_, query)) = url.split_once('?') else {
        return;
    };
    let query = query.split('#').next().unwrap_or_default();
    secrets.add_form(query);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == "code" {
            secrets.add(&value);
        }
    }
}

/// Set query parameter `param` of `url` to `value`: appended when absent (the rest of the query
/// kept byte for byte), replaced when present.
fn set_query_param(url: &mut Url, param: &str, value: &str) {
    let present = url.query_pairs().any(|(name, _)| name == param);
    if present {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| name != param)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let mut pairs = url.query_pairs_mut();
        pairs.clear();
        for (name, value) in &kept {
            pairs.append_pair(name, value);
        }
        pairs.append_pair(param, value);
    } else {
        url.query_pairs_mut().append_pair(param, value);
    }
}

/// `scheme://host:port` of a URL, as [`Url::origin`] serializes it; `None` when it has none.
fn origin_of(url: &str) -> Option<String> {
    let origin = Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// The origins a login may follow: the target's and each mock's, by the URL the runner uses and
/// by the URLs the run's Docker network gives them (its name, its `hostnames`), each mapped to
/// the URL the runner reaches.
struct Origins(Vec<(String, String)>);

impl Origins {
    fn new(ctx: &FlowContext<'_>) -> Origins {
        let mut pairs = Vec::new();
        let mut add = |seen: &str, reached: &str| {
            if let (Some(seen), Some(reached)) = (origin_of(seen), origin_of(reached)) {
                pairs.push((seen, reached));
            }
        };
        add(ctx.target_url, ctx.target_url);
        add(ctx.webhook_target_url, ctx.target_url);
        if let Some(public) = ctx.target_public_url {
            add(public, ctx.target_url);
        }
        for url in ctx.mock_urls.values() {
            add(url, url);
        }
        for (alias, url) in ctx.mock_aliases {
            add(alias, url);
        }
        Origins(pairs)
    }

    /// `url` as the runner reaches it, or `None` when its origin is not one of the run's.
    fn reach(&self, url: &Url) -> Option<Url> {
        let origin = url.origin();
        if !origin.is_tuple() {
            return None;
        }
        let origin = origin.ascii_serialization();
        let (_, reached) = self.0.iter().find(|(seen, _)| *seen == origin)?;
        let mut out = Url::parse(reached).ok()?;
        out.set_path(url.path());
        out.set_query(url.query());
        Some(out)
    }
}

/// One cookie of the jar.
#[derive(Debug, Clone, PartialEq)]
struct Cookie {
    name: String,
    value: String,
    path: String,
}

/// Cookies by origin (scheme, host and port): `Set-Cookie` stores `name=value` with its `Path`;
/// `Max-Age` ≤ 0 or an `Expires` in the past deletes. `Domain`, `Secure`, `HttpOnly` and
/// `SameSite` are ignored: a cookie is only ever sent back to the origin that set it.
#[derive(Debug, Default)]
struct Jar(BTreeMap<String, Vec<Cookie>>);

impl Jar {
    /// Store what one `Set-Cookie` header of an answer from `url` says (RFC 6265 §5.2).
    fn store(&mut self, url: &Url, header: &str, now: OffsetDateTime) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut path = None;
        let mut max_age = None;
        let mut expires = None;
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let val = val.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "path" if val.starts_with('/') => path = Some(val.to_string()),
                "max-age" => max_age = val.parse::<i64>().ok(),
                "expires" => expires = http_date(val),
                _ => {}
            }
        }
        let expired = match (max_age, expires) {
            (Some(seconds), _) => seconds <= 0,
            (None, Some(at)) => at <= now,
            (None, None) => false,
        };
        let path = path.unwrap_or_else(|| default_path(url.path()));
        let Some(origin) = origin_of(url.as_str()) else {
            return;
        };
        let cookies = self.0.entry(origin).or_default();
        cookies.retain(|cookie| !(cookie.name == name && cookie.path == path));
        if !expired {
            cookies.push(Cookie {
                name: name.to_string(),
                value: value.trim().trim_matches('"').to_string(),
                path,
            });
        }
    }

    /// The cookies to send to `url`, longest path first (RFC 6265 §5.4).
    fn matching(&self, url: &Url) -> Vec<&Cookie> {
        let Some(cookies) = origin_of(url.as_str()).and_then(|origin| self.0.get(&origin)) else {
            return Vec::new();
        };
        let mut out: Vec<&Cookie> = cookies
            .iter()
            .filter(|cookie| path_matches(url.path(), &cookie.path))
            .collect();
        out.sort_by_key(|cookie| std::cmp::Reverse(cookie.path.len()));
        out
    }

    /// The `Cookie` header for a request to `url`, if the jar has any for it.
    fn header(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .matching(url)
            .iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Every cookie of `url`'s origin, whatever its path, as (name, value).
    fn cookies(&self, url: &Url) -> Vec<(String, String)> {
        origin_of(url.as_str())
            .and_then(|origin| self.0.get(&origin))
            .map(|cookies| {
                cookies
                    .iter()
                    .map(|cookie| (cookie.name.clone(), cookie.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// RFC 6265 §5.1.4: the default path is the request path up to its last `/` (exclusive), or `/`.
fn default_path(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(at) => path[..at].to_string(),
    }
}

/// RFC 6265 §5.1.4 path-match.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7), the form servers write in
/// `Expires`; other forms are not read (the cookie then lasts the login).
fn http_date(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text, format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// An auto-submitting POST form: where it posts and the fields it carries.
#[derive(Debug, PartialEq)]
struct Form {
    /// `action` as written (empty: the page's own URL).
    action: String,
    /// Named `<input>`s other than buttons, files and unchecked boxes, in order.
    fields: Vec<(String, String)>,
}

/// The form a 2xx HTML page submits by itself, if it does: its first `<form method="post">`,
/// when that form carries a hidden `SAMLResponse` or `SAMLRequest` (SAML Bindings §3.5.4) or the
/// page calls `submit()` from an `onload` attribute or a `<script>` (what IdPs send a browser).
fn auto_form(response: &ReceivedResponse) -> Option<Form> {
    if !(200..300).contains(&response.status) {
        return None;
    }
    let html = response.body.as_str();
    let tags = tags(html);
    let (form_at, form) = tags.iter().enumerate().find(|(_, tag)| {
        tag.name == "form"
            && tag
                .attr("method")
                .is_some_and(|method| method.eq_ignore_ascii_case("post"))
    })?;
    let mut fields = Vec::new();
    for tag in &tags[form_at + 1..] {
        if tag.name == "/form" {
            break;
        }
        if tag.name != "input" {
            continue;
        }
        let Some(name) = tag.attr("name").filter(|name| !name.is_empty()) else {
            continue;
        };
        let kind = tag.attr("type").unwrap_or("text").to_ascii_lowercase();
        let checked = tag.attr("checked").is_some();
        match kind.as_str() {
            "submit" | "button" | "image" | "reset" | "file" => continue,
            "checkbox" | "radio" if !checked => continue,
            _ => {}
        }
        fields.push((
            name.to_string(),
            tag.attr("value").unwrap_or_default().to_string(),
        ));
    }
    let saml = fields
        .iter()
        .any(|(name, _)| name == "SAMLResponse" || name == "SAMLRequest");
    let scripted = tags.iter().any(|tag| {
        tag.attr("onload")
            .is_some_and(|onload| onload.contains("submit("))
            || tag
                .script
                .as_deref()
                .is_some_and(|script| script.contains(".submit("))
    });
    (saml || scripted).then(|| Form {
        action: form.attr("action").unwrap_or_default().to_string(),
        fields,
    })
}

/// A start or end tag of an HTML page, with its attributes (entities decoded) and, for
/// `<script>`, the text up to `</script>`.
#[derive(Debug)]
struct Tag {
    /// Lower case; an end tag starts with `/`.
    name: String,
    attrs: Vec<(String, String)>,
    script: Option<String>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The tags of `html`, in order: a small tokenizer, enough for the forms IdPs write (comments
/// are skipped; attribute values are double-, single- or unquoted). Linear in the page's length.
fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    // Searched for `</script`: ASCII lower-casing keeps every offset.
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset + 1;
        if html[start..].starts_with("!--") {
            at = html[start..]
                .find("-->")
                .map_or(html.len(), |end| start + end + 3);
            continue;
        }
        // An end tag's name starts with `/`; `<br/>` ends at its `/`.
        let name_start = start + usize::from(html[start..].starts_with('/'));
        let name_end = html[name_start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .map_or(html.len(), |end| name_start + end);
        let name = html[start..name_end].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut i = name_end;
        // Attributes up to the closing `>` (not inside quotes).
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i = (i + 1).min(bytes.len());
                break;
            }
            let key_start = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let key = html[key_start..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                    let quote = bytes[i];
                    let value_start = i + 1;
                    let end = bytes[value_start..]
                        .iter()
                        .position(|b| *b == quote)
                        .map_or(bytes.len(), |end| value_start + end);
                    value = decode_entities(&html[value_start..end]);
                    i = (end + 1).min(bytes.len());
                } else {
                    let value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode_entities(&html[value_start..i]);
                }
            }
            if !key.is_empty() {
                attrs.push((key, value));
            }
        }
        let mut script = None;
        if name == "script" {
            let end = lower[i..]
                .find("</script")
                .map_or(html.len(), |end| i + end);
            script = Some(html[i..end].to_string());
            i = end;
        }
        out.push(Tag {
            name,
            attrs,
            script,
        });
        at = i.max(start);
    }
    out
}

/// HTML character references in an attribute value: the five named ones XML knows and numeric
/// ones; anything else is kept as written.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some((end, _)) = rest.char_indices().take(12).find(|(_, c)| *c == ';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: u16, body: &str) -> ReceivedResponse {
        ReceivedResponse {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: body.into(),
        }
    }

    #[test]
    fn a_saml_form_or_a_scripted_form_submits_itself_and_others_do_not() {
        let saml = r#"<html><body onload="document.forms[0].submit()"><form method="POST" action="https://sp.test/acs?x=1&amp;y=2"><input type="hidden" name="SAMLResponse" value="PHg+"><input type="hidden" name="RelayState" value="/home?a=1&amp;b=&#39;2&#x27;"><noscript><input type="submit" value="Submit"></noscript></form></body></html>"#;
        assert_eq!(
            auto_form(&page(200, saml)),
            Some(Form {
                action: "https://sp.test/acs?x=1&y=2".into(),
                fields: vec![
                    ("SAMLResponse".into(), "PHg+".into()),
                    ("RelayState".into(), "/home?a=1&b='2'".into()),
                ],
            })
        );
        let no_script =
            "<form method='post' action=/acs><input type=hidden name=SAMLRequest value=abc></form>";
        assert_eq!(
            auto_form(&page(200, no_script)).map(|form| form.fields),
            Some(vec![("SAMLRequest".into(), "abc".into())])
        );
        let scripted = r#"<form method="post" action="/cb"><input type="hidden" name="code" value="c1"><input type="checkbox" name="remember"></form><script>document.forms[0].submit();</script>"#;
        assert_eq!(
            auto_form(&page(200, scripted)).map(|form| form.fields),
            Some(vec![("code".into(), "c1".into())])
        );
        let login_page = r#"<form method="post" action="/login"><input name="username"><input type="password" name="password"></form>"#;
        assert_eq!(
            auto_form(&page(200, login_page)),
            None,
            "a form a person fills in"
        );
        let get_form =
            r#"<form action="/search"><input type="hidden" name="SAMLResponse" value="x"></form>"#;
        assert_eq!(auto_form(&page(200, get_form)), None, "not a POST form");
        assert_eq!(auto_form(&page(500, saml)), None, "an error page");
        for junk in [
            "<",
            "<form",
            "<form method=",
            "<form method='post",
            "<!--",
            "&#xffffffff;<",
            "<script>",
        ] {
            assert_eq!(auto_form(&page(200, junk)), None, "{junk}");
        }
    }

    /// No input panics: every cut of a page mixing multi-byte text, entities, quotes, comments
    /// and scripts, read as a page and as an attribute value.
    #[test]
    fn no_cut_of_a_page_panics() {
        let sample = "<!-- é --><body onload='document.forms[0].submit()'><form method=\"post\" action=\"/a?b=1&amp;c=ü\"><input type=hidden name=SAMLResponse value=\"x&#x1F600;&#9999999999;&é;&\"><input name='RelayState' value='é'><input type=checkbox name=c checked></form><script>é.submit()</script><scr";
        let cuts: Vec<usize> = (0..=sample.len())
            .filter(|at| sample.is_char_boundary(*at))
            .collect();
        for start in &cuts {
            for end in cuts.iter().filter(|end| *end >= start) {
                let text = &sample[*start..*end];
                let _ = auto_form(&page(200, text));
                let _ = decode_entities(text);
            }
        }
        assert_eq!(
            decode_entities("a&#x1F600;b&#9999999999;&é;&"),
            "a😀b&#9999999999;&é;&"
        );
    }

    #[test]
    fn the_jar_keeps_cookies_per_origin_and_path_and_expires_them() {
        let now = OffsetDateTime::now_utc();
        let url = |text: &str| Url::parse(text).unwrap();
        let mut jar = Jar::default();
        jar.store(
            &url("http://127.0.0.1:1/acs"),
            "session=s1; Path=/; HttpOnly",
            now,
        );
        jar.store(&url("http://127.0.0.1:1/app/x"), "app=a1", now);
        jar.store(&url("http://127.0.0.1:2/"), "other=o1", now);
        assert_eq!(
            jar.header(&url("http://127.0.0.1:1/app/y")).as_deref(),
            Some("app=a1; session=s1")
        );
        assert_eq!(
            jar.header(&url("http://127.0.0.1:1/home")).as_deref(),
            Some("session=s1")
        );
        assert_eq!(jar.header(&url("http://127.0.0.1:3/")), None);
        jar.store(&url("http://127.0.0.1:1/"), "session=; Max-Age=0", now);
        jar.store(
            &url("http://127.0.0.1:1/app/"),
            "app=gone; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            now,
        );
        assert_eq!(jar.header(&url("http://127.0.0.1:1/app/y")), None);
        assert_eq!(
            jar.header(&url("http://127.0.0.1:2/x")).as_deref(),
            Some("other=o1")
        );
    }

    /// Only the run's origins are followed; network names and hostnames of a Docker run, and
    /// the target's public URL, are followed at the URL the runner reaches.
    #[test]
    fn only_the_runs_origins_are_reachable() {
        crate::mock::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let mock_urls = BTreeMap::from([("okta".to_string(), "http://127.0.0.1:4001".to_string())]);
        let aliases = vec![
            (
                "http://okta:8080".to_string(),
                "http://127.0.0.1:4001".to_string(),
            ),
            (
                "http://acme.okta.com:8080".to_string(),
                "http://127.0.0.1:4001".to_string(),
            ),
        ];
        let ctx = FlowContext {
            http: &http,
            target_url: "http://127.0.0.1:5000",
            webhook_target_url: "http://reenact-target:5000",
            mock_urls: &mock_urls,
            mocks: &[],
            mocks_by_name: &BTreeMap::new(),
            mock_aliases: &aliases,
            target_public_url: Some("https://ledger.acme.test"),
        };
        let origins = Origins::new(&ctx);
        let reach = |url: &str| {
            origins
                .reach(&Url::parse(url).unwrap())
                .map(|url| url.to_string())
        };
        for (url, reached) in [
            ("http://127.0.0.1:5000/home", "http://127.0.0.1:5000/home"),
            (
                "http://reenact-target:5000/acs?x=1#top",
                "http://127.0.0.1:5000/acs?x=1",
            ),
            ("http://okta:8080/sso?u=a", "http://127.0.0.1:4001/sso?u=a"),
            ("http://ACME.okta.com:8080/sso", "http://127.0.0.1:4001/sso"),
            (
                "https://ledger.acme.test/auth/callback?code=c1",
                "http://127.0.0.1:5000/auth/callback?code=c1",
            ),
        ] {
            assert_eq!(reach(url).as_deref(), Some(reached), "{url}");
        }
        for url in [
            "https://127.0.0.1:5000/home",
            "http://127.0.0.1:5001/",
            "http://localhost:5000/",
            "https://acme.okta.com/sso",
            "http://ledger.acme.test/auth/callback",
            "https://ledger.acme.test:8443/",
            "javascript:alert(1)",
            "myapp://callback?code=x",
        ] {
            assert_eq!(reach(url), None, "{url}");
        }
    }

    #[test]
    fn the_user_parameter_is_appended_or_replaced() {
        let mut url = Url::parse("http://idp/sso?SAMLRequest=a%2Bb&RelayState=x").unwrap();
        set_query_param(&mut url, "user", "alice@acme.test");
        assert_eq!(
            url.as_str(),
            "http://idp/sso?SAMLRequest=a%2Bb&RelayState=x&user=alice%40acme.test"
        );
        let mut url = Url::parse("http://idp/authorize?login_hint=bob&state=s").unwrap();
        set_query_param(&mut url, "login_hint", "alice");
        assert_eq!(
            url.as_str(),
            "http://idp/authorize?state=s&login_hint=alice"
        );
    }
}
