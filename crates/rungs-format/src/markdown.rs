//! A criterion's Markdown as safe HTML, for the HTML export and the web app. CommonMark is parsed
//! by pulldown-cmark; raw HTML in the text is shown as text, never passed through; links keep
//! only web and mail addresses, and images become their description.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Text safe in HTML content and in quoted attribute values.
pub fn escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// Whether a link may be followed from a page: web and mail links only.
pub fn safe_url(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with("mailto:")
}

/// `text` (CommonMark) as HTML that can be placed in a page as it is.
pub fn to_html(text: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    // Which links were dropped, so that their end is dropped too.
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(text, options).filter_map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
        Event::Start(Tag::Link { dest_url, .. }) if !safe_url(&dest_url) => {
            dropped.push(true);
            None
        }
        Event::Start(link @ Tag::Link { .. }) => {
            dropped.push(false);
            Some(Event::Start(link))
        }
        Event::End(TagEnd::Link) => (!dropped.pop().unwrap_or(false)).then_some(e),
        // An image's description stays as text; the image itself is not fetched.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_nothing_unsafe_passes() {
        let html = to_html("Leads design:\n\n1. writes the *proposal*\n2. gathers feedback");
        assert!(
            html.contains("<ol>") && html.contains("<em>proposal</em>"),
            "{html}"
        );
        let html = to_html("<script>alert(1)</script> and <b onmouseover=x>bold</b>");
        assert!(!html.contains("<script") && !html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let html = to_html(
            "[docs](https://example.com/a?b=1&c=2) [bad](javascript:alert(1)) ![x](https://t.example/p.png)",
        );
        assert!(
            html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\">docs</a>"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("bad") && !html.contains("<img"), "{html}");
        assert_eq!(
            escape("a \"b\" & <c> 'd'"),
            "a &quot;b&quot; &amp; &lt;c&gt; &#x27;d&#x27;"
        );
    }
}
