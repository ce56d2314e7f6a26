//! Markdown documents: the YAML front matter, and the sections under each heading with
//! their text (fenced code and setext headings as CommonMark reads them; HTML comments,
//! where the Hugging Face templates keep their prompts, are not content).

use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// A Markdown file split at its front matter.
pub struct Split<'a> {
    /// The YAML between the `---` fences, if there is any.
    pub front_matter: Option<&'a str>,
    /// 1-based line of the front matter's first line.
    pub front_matter_line: usize,
    pub body: &'a str,
    /// 1-based line of the body's first line.
    pub body_line: usize,
}

/// Front matter opened with `---` and never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unclosed;

/// Splits off the front matter: a first line `---`, up to the next line `---` or `...`.
pub fn split(text: &str) -> Result<Split<'_>, Unclosed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_end = text.find('\n').map_or(text.len(), |end| end + 1);
    if text[..first_end].trim_end() != "---" {
        return Ok(Split { front_matter: None, front_matter_line: 0, body: text, body_line: 1 });
    }
    let mut offset = first_end;
    let mut line = 2;
    while offset < text.len() {
        let end = text[offset..].find('\n').map_or(text.len(), |end| offset + end + 1);
        let current = text[offset..end].trim_end();
        if current == "---" || current == "..." {
            return Ok(Split {
                front_matter: Some(&text[first_end..offset]),
                front_matter_line: 2,
                body: &text[end..],
                body_line: line + 1,
            });
        }
        offset = end;
        line += 1;
    }
    Err(Unclosed)
}

/// The text under one heading, up to the next heading of any level.
#[derive(Debug, Clone)]
pub struct Section {
    /// Empty for the text before the first heading.
    pub heading: String,
    /// 1–6; 0 for the text before the first heading.
    pub level: u8,
    /// 1-based line of the heading in the whole file.
    pub line: usize,
    /// The section's own text, without markup, comments or sub-sections.
    pub text: String,
}

static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<!--.*?(?:-->|$)").expect("comment pattern"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?[A-Za-z][^>]*>").expect("tag pattern"));

/// The sections of a Markdown body; `first_line` is the body's line in the file.
pub fn sections(body: &str, first_line: usize) -> Vec<Section> {
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(body.match_indices('\n').map(|(index, _)| index + 1)).collect();
    let line_of = |offset: usize| first_line + line_starts.partition_point(|&start| start <= offset) - 1;
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut sections = vec![Section { heading: String::new(), level: 0, line: first_line, text: String::new() }];
    let mut html = String::new();
    let mut in_heading = false;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        let current = sections.last_mut().expect("a section");
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush_html(current, &mut html);
                in_heading = true;
                sections.push(Section {
                    heading: String::new(),
                    level: level as u8,
                    line: line_of(range.start),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                current.heading = current.heading.trim().to_string();
            }
            Event::Text(text) | Event::Code(text) => {
                if in_heading {
                    current.heading.push_str(&text);
                } else {
                    current.text.push_str(&text);
                }
            }
            Event::Html(text) | Event::InlineHtml(text) if !in_heading => html.push_str(&text),
            Event::SoftBreak | Event::HardBreak => current.text.push('\n'),
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableRow | TagEnd::TableHead | TagEnd::CodeBlock) => {
                flush_html(current, &mut html);
                current.text.push('\n');
            }
            Event::End(TagEnd::TableCell) => current.text.push(' '),
            _ => {}
        }
    }
    if let Some(last) = sections.last_mut() {
        flush_html(last, &mut html);
    }
    sections
}

/// Raw HTML gathered for a section: comments dropped, tags stripped, text kept.
fn flush_html(section: &mut Section, html: &mut String) {
    if html.is_empty() {
        return;
    }
    let without_comments = COMMENT.replace_all(html, " ");
    let text = TAG.replace_all(&without_comments, " ");
    if !text.trim().is_empty() {
        section.text.push_str(text.trim());
        section.text.push('\n');
    }
    html.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter() {
        let split = split("---\nlicense: mit\n---\n# Title\n").expect("closed");
        assert_eq!(split.front_matter, Some("license: mit\n"));
        assert_eq!(split.body, "# Title\n");
        assert_eq!(split.body_line, 4);
        assert!(super::split("---\nlicense: mit\n# never closed\n").is_err());
        assert!(super::split("# no front matter\n").expect("ok").front_matter.is_none());
    }

    #[test]
    fn headings_in_code_and_comments_are_not_sections() {
        let body = "intro\n\n## Uses\n<!-- prompt -->\n\n```python\n# not a heading\nprint(1)\n```\n\nTitle\n=====\n\ntext <b>bold</b>\n";
        let found = sections(body, 5);
        let headings: Vec<(&str, u8, usize)> = found.iter().map(|s| (s.heading.as_str(), s.level, s.line)).collect();
        assert_eq!(headings, vec![("", 0, 5), ("Uses", 2, 7), ("Title", 1, 15)]);
        assert!(found[1].text.contains("# not a heading"));
        assert!(!found[1].text.contains("prompt"));
        assert!(found[2].text.contains("text") && found[2].text.contains("bold"));
    }
}
