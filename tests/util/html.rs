//! HTML validation for the report and the dashboard's pages: a conforming HTML5 parser
//! (html5ever, with exact errors) must find no parse error and no quirks mode, every `id`
//! must be unique, and nothing may be loaded from elsewhere (no script, no external
//! `src`/`href`).

use html5ever::tendril::TendrilSink;
use html5ever::tokenizer::TokenizerOpts;
use html5ever::tree_builder::{QuirksMode, TreeBuilderOpts};
use html5ever::{parse_document, ParseOpts};
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// Every problem found in `page`; empty when it is valid.
pub fn problems(page: &str) -> Vec<String> {
    let options = ParseOpts {
        tokenizer: TokenizerOpts { exact_errors: true, ..Default::default() },
        tree_builder: TreeBuilderOpts { exact_errors: true, scripting_enabled: false, ..Default::default() },
    };
    let dom = parse_document(RcDom::default(), options).one(page);
    let mut problems: Vec<String> = dom.errors.borrow().iter().map(|error| format!("parse error: {error}")).collect();
    if dom.quirks_mode.get() != QuirksMode::NoQuirks {
        problems.push("the page renders in quirks mode: it needs <!DOCTYPE html>".to_string());
    }
    let mut ids = std::collections::BTreeMap::<String, usize>::new();
    walk(&dom.document, &mut ids, &mut problems);
    for (id, count) in ids {
        if count > 1 {
            problems.push(format!("id `{id}` is used {count} times"));
        }
    }
    problems
}

/// Asserts that `page` is valid, naming every problem.
pub fn assert_valid(page: &str, what: &str) {
    let problems = problems(page);
    assert!(problems.is_empty(), "{what} is not valid HTML:\n{}", problems.join("\n"));
}

fn walk(node: &Handle, ids: &mut std::collections::BTreeMap<String, usize>, problems: &mut Vec<String>) {
    if let NodeData::Element { name, attrs, .. } = &node.data {
        let tag = name.local.to_string();
        if tag == "script" {
            problems.push("a <script> element: the page must work without script".to_string());
        }
        for attribute in attrs.borrow().iter() {
            let key = attribute.name.local.to_string();
            let value = attribute.value.to_string();
            if key == "id" {
                *ids.entry(value.clone()).or_default() += 1;
            }
            let loads = matches!(key.as_str(), "src" | "srcset" | "poster" | "data")
                || (key == "href" && tag == "link")
                || (key == "href" && tag == "image");
            let external = value.starts_with("http:") || value.starts_with("https:") || value.starts_with("//");
            if (loads && !value.starts_with("data:")) || (external && key != "xmlns") {
                problems.push(format!("<{tag} {key}=\"{value}\"> would load or lead elsewhere"));
            }
        }
    }
    for child in node.children.borrow().iter() {
        walk(child, ids, problems);
    }
}
