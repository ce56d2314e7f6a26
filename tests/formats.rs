//! Format detection and the structural checks of safetensors, .npy and GGUF on real files
//! written by the `safetensors`, `numpy` and `gguf` Python packages
//! (`tests/fixtures/formats/generate.py`), and on corrupted variants derived here.

use modelgate::artifacts::formats::{check_gguf, check_npy, check_safetensors, detect, Format, FormatReport};
use modelgate::evidence::Severity;

fn bytes(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn st(data: &[u8]) -> FormatReport {
    check_safetensors(&mut &data[..], data.len() as u64)
}
fn npy(data: &[u8]) -> FormatReport {
    check_npy(&mut &data[..], data.len() as u64)
}
fn gguf(data: &[u8]) -> FormatReport {
    check_gguf(&mut &data[..], data.len() as u64)
}

#[track_caller]
fn assert_clean(r: &FormatReport) {
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.safe());
}

/// The report is unsafe and one finding contains `text` with severity at least high.
#[track_caller]
fn assert_finding(r: &FormatReport, text: &str) {
    assert!(!r.safe());
    assert!(
        r.findings.iter().any(|f| f.why.contains(text) && f.kind == "format" && f.severity >= Severity::High),
        "no finding with {text:?} in {:#?}",
        r.findings
    );
}

// ---------------------------------------------------------------- safetensors helpers

/// Splits a safetensors file into its header JSON text and its data buffer.
fn split(file: &[u8]) -> (String, Vec<u8>) {
    let n = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
    (String::from_utf8(file[8..8 + n].to_vec()).expect("utf8"), file[8 + n..].to_vec())
}

fn join(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn plain() -> Vec<u8> {
    bytes("plain.safetensors")
}

// ---------------------------------------------------------------- detection

#[test]
fn detection_by_content_of_every_fixture() {
    for (name, format) in [
        ("model.safetensors", Format::Safetensors),
        ("plain.safetensors", Format::Safetensors),
        ("v1.npy", Format::Npy),
        ("v3.npy", Format::Npy),
        ("object.npy", Format::Npy),
        ("tiny.gguf", Format::Gguf),
    ] {
        let data = bytes(name);
        let head = &data[..data.len().min(4096)];
        assert_eq!(detect(head, data.len() as u64), format, "{name}");
    }
}

#[test]
fn detection_of_magics_and_pickles() {
    let cases: &[(&[u8], Format)] = &[
        (b"PK\x03\x04rest", Format::Zip),
        (b"\x89HDF\r\n\x1a\n\0\0", Format::Hdf5),
        (b"\x80\x04\x95\x10\0\0\0", Format::Pickle { protocol: 4 }),
        (b"\x80\x02}q\0.", Format::Pickle { protocol: 2 }),
        (b"cos\nsystem\n(S'id'\ntR.", Format::Pickle { protocol: 0 }),
        (b"(dp0\nS'a'\np1\nI1\ns.", Format::Pickle { protocol: 0 }),
        (b"}q\0(X\x01\0\0\0aK\x01u.", Format::Pickle { protocol: 0 }),
        (b"\x1f\x8b\x08\0", Format::Compressed { codec: "gzip" }),
        (b"x\x9c\xed\xbd", Format::Compressed { codec: "zlib" }),
        (b"x\x01\x01\x02", Format::Compressed { codec: "zlib" }),
        (b"BZh91AY", Format::Compressed { codec: "bz2" }),
        (b"\xfd7zXZ\0\0", Format::Compressed { codec: "xz" }),
        (b"\x04\x22\x4d\x18\x64", Format::Compressed { codec: "lz4" }),
        (b"hello world, just text", Format::Unknown),
        (b"", Format::Unknown),
        (b"\x80", Format::Unknown),
    ];
    for (head, format) in cases {
        assert_eq!(detect(head, 1 << 20), *format, "{head:?}");
    }
    // A safetensors-looking prefix whose header would run past the file is not safetensors.
    let mut fake = 1000u64.to_le_bytes().to_vec();
    fake.extend_from_slice(b"{}");
    assert_eq!(detect(&fake, fake.len() as u64), Format::Unknown);
}

#[test]
fn safetensors_header_sizes_that_look_like_compression_magics() {
    // A header size of 93 starts `5d 00 00` (the lzma-alone magic) and 120 starts with the zlib
    // CMF byte `78`: the file is still safetensors.
    for size in [93usize, 120] {
        let body = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
        let header = format!("{body:<size$}");
        let f = join(&header, &[7]);
        assert_eq!(detect(&f, f.len() as u64), Format::Safetensors, "{size}");
        assert_clean(&st(&f));
    }
}

#[test]
fn extension_does_not_matter() {
    // The same bytes are a GGUF whatever the caller calls the file.
    let data = bytes("tiny.gguf");
    assert_eq!(detect(&data[..64], data.len() as u64), Format::Gguf);
    assert_ne!(detect(&data[..64], data.len() as u64), Format::Safetensors);
}

// ---------------------------------------------------------------- safetensors

#[test]
fn safetensors_written_by_the_library_are_clean() {
    let r = st(&bytes("model.safetensors"));
    assert_clean(&r);
    assert_eq!(r.format, "safetensors");
    assert_eq!(r.details["tensors"], 7);
    assert_eq!(r.details["metadata_keys"], serde_json::json!(["format", "producer"]));
    let dtypes = r.details["dtypes"].as_array().expect("dtypes").len();
    assert_eq!(dtypes, 7);
    assert_clean(&st(&plain()));
}

#[test]
fn safetensors_header_length_beyond_file() {
    let mut f = plain();
    f[..8].copy_from_slice(&10_000u64.to_le_bytes());
    assert_finding(&st(&f), "runs past the end of the file");
}

#[test]
fn safetensors_header_length_above_bound() {
    let mut f = plain();
    f[..8].copy_from_slice(&200_000_000u64.to_le_bytes());
    assert_finding(&st(&f), "exceeds the 100000000-byte limit");
}

#[test]
fn safetensors_shorter_than_the_size_prefix() {
    assert_finding(&st(b"\x01\x02"), "shorter than the 8-byte header size");
}

#[test]
fn safetensors_overlapping_offsets() {
    let h = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
    assert_finding(&st(&join(h, &[0; 12])), "tensor `b` overlaps the previous tensor");
}

#[test]
fn safetensors_gap_between_tensors() {
    let h = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}}"#;
    assert_finding(&st(&join(h, &[0; 16])), "gap of 4 bytes in the data buffer before tensor `b`");
}

#[test]
fn safetensors_wrong_byte_count() {
    let h = r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
    assert_finding(&st(&join(h, &[0; 8])), "differs from shape [3] × F32 = 12 bytes");
}

#[test]
fn safetensors_trailing_bytes() {
    let mut f = plain();
    f.extend_from_slice(b"payload");
    assert_finding(&st(&f), "7 trailing bytes after the last tensor");
}

#[test]
fn safetensors_truncated_data() {
    let f = plain();
    assert_finding(&st(&f[..f.len() - 4]), "past the end of the data buffer");
}

#[test]
fn safetensors_non_string_metadata() {
    let (h, d) = split(&plain());
    let h = h.trim_end().replacen('{', r#"{"__metadata__":{"n":1},"#, 1);
    assert_finding(&st(&join(&h, &d)), "__metadata__ value of `n` is not a string: number");
    let h2 = r#"{"__metadata__":["x"]}"#;
    assert_finding(&st(&join(h2, &[])), "__metadata__ is not a map of strings: array");
}

#[test]
fn safetensors_duplicate_keys() {
    let h =
        r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
    assert_finding(&st(&join(h, &[0])), "duplicate key `a`");
    let h = r#"{"a":{"dtype":"U8","dtype":"F64","shape":[1],"data_offsets":[0,1]}}"#;
    assert_finding(&st(&join(h, &[0])), "duplicate key `dtype`");
}

#[test]
fn safetensors_header_syntax_rules() {
    let ok = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
    assert_clean(&st(&join(&format!("{ok}      "), &[0])));
    assert_finding(&st(&join(&format!("{ok}\n"), &[0])), "other than space (0x20) padding");
    assert_finding(&st(&join(&format!(" {ok}"), &[0])), "does not start with `{`");
    assert_finding(&st(&join("[1,2]", &[])), "does not start with `{`");
    assert_finding(&st(&join("{\"a\":1", &[])), "other than space");
    assert_finding(&st(&join("{\"a\" 1}", &[])), "not valid JSON");
    let mut bad = join("{\"\u{e9}\":1}", &[]);
    bad[10] = 0xff;
    assert_finding(&st(&bad), "not valid UTF-8");
}

#[test]
fn safetensors_tensor_entry_rules() {
    let cases = [
        (r#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, "unknown dtype `Q4`"),
        (r#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, "is not a non-negative integer"),
        (r#"{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, "is not a non-negative integer"),
        (r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}"#, "begin 1 > end 0"),
        (r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}"#, "instead of [begin, end]"),
        (r#"{"a":{"dtype":"U8","shape":[1]}}"#, "missing or non-array `data_offsets`"),
        (r#"{"a":{"shape":[1],"data_offsets":[0,1]}}"#, "missing or non-string `dtype`"),
        (r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}"#, "unknown field `x`"),
        (r#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}"#, "do not fill whole bytes"),
        (r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,1]}}"#, "overflows"),
        (r#"{"a":7}"#, "entry is not an object"),
    ];
    for (h, text) in cases {
        assert_finding(&st(&join(h, &[0])), text);
    }
    // Sub-byte dtypes that fill whole bytes are fine.
    assert_clean(&st(&join(r#"{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#, &[0, 0])));
}

// ---------------------------------------------------------------- npy

#[test]
fn npy_written_by_numpy_are_clean() {
    for (name, version) in [
        ("v1.npy", "1.0"),
        ("fortran.npy", "1.0"),
        ("strings.npy", "1.0"),
        ("structured.npy", "1.0"),
        ("v2.npy", "2.0"),
        ("v3.npy", "3.0"),
    ] {
        let r = npy(&bytes(name));
        assert_clean(&r);
        assert_eq!(r.details["version"], version, "{name}");
    }
    let r = npy(&bytes("v1.npy"));
    assert_eq!(r.details["shape"], serde_json::json!([3, 4]));
    assert_eq!(r.details["descr"], "'<f8'");
    assert_eq!(npy(&bytes("fortran.npy")).details["fortran_order"], true);
}

#[test]
fn npy_object_dtype_is_a_pickle() {
    for name in ["object.npy", "object-field.npy"] {
        let r = npy(&bytes(name));
        assert!(r.executable, "{name}");
        assert_finding(&r, "the array data is a pickle");
        assert!(r.findings.iter().all(|f| f.severity == Severity::Critical));
    }
}

#[test]
fn npy_truncated_and_trailing() {
    let f = bytes("v1.npy");
    assert_finding(&npy(&f[..f.len() - 8]), "array data truncated: 88 bytes, shape × itemsize is 96");
    let mut g = f.clone();
    g.extend_from_slice(b"\x80\x04extra");
    assert_finding(&npy(&g), "7 trailing bytes after the array data");
    assert_finding(&npy(&f[..20]), "runs past the end of the file");
}

/// A .npy with the given header dict text, padded like numpy does, and `data` after it.
fn npy_with(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn npy_header_rules() {
    assert_clean(&npy(&npy_with("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", &[0; 8])));
    assert_clean(&npy(&npy_with("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", &[0; 4])));
    let cases = [
        ("{'descr': '<i4', 'fortran_order': False}", "expected exactly descr, fortran_order, shape"),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "expected exactly"),
        ("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", "duplicate key 'descr'"),
        ("{'descr': '<i4', 'fortran_order': 0, 'shape': (2,)}", "fortran_order is not a boolean"),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (-2,)}", "negative dimension -2"),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': [2]}", "shape is not a tuple"),
        ("{'descr': '<q9', 'fortran_order': False, 'shape': (2,)}", "unknown descr `<q9`"),
        ("{'descr': __import__('os'), 'fortran_order': False, 'shape': (2,)}", "unexpected token"),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (2,)} + 1", "unexpected text after"),
    ];
    for (dict, text) in cases {
        assert_finding(&npy(&npy_with(dict, &[0; 8])), text);
    }
    let mut bad = npy_with("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", &[0; 8]);
    bad[6] = 4;
    assert_finding(&npy(&bad), "unknown .npy version 4.0");
    assert_finding(&npy(b"\x93NUMP"), "missing the \\x93NUMPY magic");
}

// ---------------------------------------------------------------- gguf

#[test]
fn gguf_written_by_gguf_py_is_clean() {
    let r = gguf(&bytes("tiny.gguf"));
    assert_clean(&r);
    assert_eq!(r.details["version"], 3);
    assert_eq!(r.details["tensors"], 3);
    assert_eq!(r.details["architecture"], "llama");
    assert_eq!(r.details["alignment"], 32);
    assert_eq!(r.details["chat_templates"], serde_json::json!(["tokenizer.chat_template"]));
}

#[test]
fn gguf_ssti_chat_template_is_critical() {
    let r = gguf(&bytes("ssti.gguf"));
    assert_finding(&r, "attribute `.__class__`");
    assert_finding(&r, "CVE-2024-34359");
    assert!(r.findings.iter().any(|f| f.severity == Severity::Critical));
}

#[test]
fn gguf_templates_are_analysed_as_jinja() {
    use modelgate::artifacts::formats::jinja::analyze;
    for good in [
        "{% set ns = namespace(found=false) %}{{ messages[0]['content'] | trim }}",
        "Important: {{ bos_token }}",
        "{%- for m in messages %}{{ m.role }}: {{ m['content'] }}{% if loop.last %}{{ eos_token }}{% endif %}{% endfor %}",
        // prose, outside the tags and inside strings, is not code
        "the user's last request. Use all previous tool calls {{ '... request. Use ...' ~ x }}",
        "{% macro f(namespace) %}{{ namespace }}{% endmacro %}{{ f('functions') }}",
        "{{ raise_exception('bad role ' ~ message.role) if message.role not in ['user'] }}",
        // a slice step that overflows is folded without a panic (a panic would be a finding)
        "{{ 'ab'[1::9223372036854775807] }}",
    ] {
        assert_eq!(analyze(good), vec![], "{good}");
    }
    for bad in [
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ cycler.__init__.__globals__.os.popen('id') }}",
        "{{ joiner.x }}",
        "{{ namespace.__init__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ config.items() }}",
        "{{ request.application }}",
        "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
        "{{ eval('1') }}",
        "{% import 'x' as y %}",
        // what no regex saw: names built by subscripts, concatenation, printf and slices
        "{{ lipsum['__glo'+'bals__']['o'+'s']['po'+'pen']('id')['read']() }}",
        "{{ cycler['%c%cinit%c%c'|format(95,95,95,95)] }}",
        "{{ x[('__ssalc__')[::-1]] }}",
        "{{ x[dict(__cla=1,ss__=2)|join] }}",
        "{{ x[['_','_','class','_','_']|join] }}",
        "{% set u = '_' %}{{ x[u ~ u ~ 'class' ~ u ~ u] }}",
        "{{ x|map(attribute='__class__')|list }}",
        // a binding that overflows the values followed, filters and macros not folded,
        // Python's `\N{...}` escapes in any case
        "{% set k='a0' %}{% set k='a1' %}{% set k='a2' %}{% set k='a3' %}{% set k='a4' %}{% set k='a5' %}\
         {% set k='a6' %}{% set k='a7' %}{% set k='a8' %}{% set k='a9' %}{% set k='a10' %}{% set k='a11' %}\
         {% set k='a12' %}{% set k='a13' %}{% set k='a14' %}{% set k='a15' %}{% set k='__class__' %}{{ ''[k] }}",
        "{{ ''[['__class__']|min] }}",
        "{% macro c() %}__class__{% endmacro %}{{ ''[c()] }}",
        "{{ ''['\\N{low line}\\N{low line}class\\N{low line}\\N{low line}'] }}",
        "{% if x %}", // does not parse
    ] {
        assert!(!analyze(bad).is_empty(), "{bad}");
    }
}

/// Byte position of the first tensor info: after the last KV pair. Found by locating the
/// first tensor name of the fixture.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).expect("needle")
}

#[test]
fn gguf_huge_counts_are_refused_before_allocating() {
    let mut f = bytes("tiny.gguf");
    f[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_finding(&gguf(&f), "tensor count 18446744073709551615 is impossible");
    let mut f = bytes("tiny.gguf");
    f[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_finding(&gguf(&f), "metadata count 1099511627776 is impossible");
}

#[test]
fn gguf_header_rules() {
    let f = bytes("tiny.gguf");
    let mut bad = f.clone();
    bad[4] = 9;
    assert_finding(&gguf(&bad), "unknown GGUF version 9");
    assert_finding(&gguf(&f[..100]), "");
    assert_finding(&gguf(b"GGUF"), "file cut short");
    // A string length beyond the file.
    let mut bad = f.clone();
    bad[24..32].copy_from_slice(&(1u64 << 50).to_le_bytes());
    assert_finding(&gguf(&bad), "exceeds the");
}

#[test]
fn gguf_unaligned_and_out_of_range_offsets() {
    let f = bytes("tiny.gguf");
    // Tensor info: name, n_dims u32, dims u64 × n, type u32, offset u64. `norm.weight` is 1-D.
    let at = find(&f, b"norm.weight") + b"norm.weight".len() + 4 + 8 + 4;
    let mut bad = f.clone();
    let offset = u64::from_le_bytes(bad[at..at + 8].try_into().expect("8")) + 4;
    bad[at..at + 8].copy_from_slice(&offset.to_le_bytes());
    let r = gguf(&bad);
    assert_finding(&r, &format!("tensor `norm.weight`: offset {offset} is not aligned to 32"));
    let mut bad = f.clone();
    bad[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_finding(&gguf(&bad), "runs past the end of the data section");
    // The data section cut short.
    assert_finding(&gguf(&f[..f.len() - 16]), "tensor `out.weight`: data");
}

#[test]
fn gguf_duplicate_tensor_names_and_keys() {
    let f = bytes("tiny.gguf");
    // `general.architecture` renamed to `llama.context_length` (both 20 bytes).
    let mut bad = f.clone();
    let at = find(&bad, b"general.architecture");
    bad[at..at + 20].copy_from_slice(b"llama.context_length");
    assert_finding(&gguf(&bad), "duplicate metadata key `llama.context_length`");
    // Two tensor infos with the same name, in a GGUF built here.
    let mut g = b"GGUF".to_vec();
    g.extend_from_slice(&3u32.to_le_bytes());
    g.extend_from_slice(&2u64.to_le_bytes());
    g.extend_from_slice(&0u64.to_le_bytes());
    for offset in [0u64, 32] {
        g.extend_from_slice(&1u64.to_le_bytes());
        g.push(b'w');
        g.extend_from_slice(&1u32.to_le_bytes());
        g.extend_from_slice(&8u64.to_le_bytes());
        g.extend_from_slice(&0u32.to_le_bytes());
        g.extend_from_slice(&offset.to_le_bytes());
    }
    g.resize(g.len().div_ceil(32) * 32 + 64, 0);
    let mut ok = g.clone();
    ok[24 + 33 + 8] = b'v';
    assert_clean(&gguf(&ok));
    assert_finding(&gguf(&g), "duplicate tensor name `w`");
}

#[test]
fn never_panics_on_truncations_of_the_fixtures() {
    for name in ["model.safetensors", "v1.npy", "object-field.npy", "v3.npy", "tiny.gguf", "ssti.gguf"] {
        let f = bytes(name);
        for cut in 0..f.len() {
            let part = &f[..cut];
            let _ = detect(part, cut as u64);
            for r in [st(part), npy(part), gguf(part)] {
                assert!(!r.safe(), "{name} cut at {cut} passed as {}", r.format);
            }
        }
    }
}

#[test]
fn never_panics_on_byte_mutations_of_the_fixtures() {
    for name in ["model.safetensors", "structured.npy", "v2.npy", "object-field.npy", "tiny.gguf"] {
        let f = bytes(name);
        for at in 0..f.len() {
            for value in [0x00, 0xff, 0x7f, 0x20, b'{', b'O'] {
                let mut m = f.clone();
                m[at] = value;
                let _ = detect(&m, m.len() as u64);
                let _ = (st(&m), npy(&m), gguf(&m));
            }
        }
    }
}

/// Regression (found by the mutation test): a 0-dimensional tensor of a block-quantized type.
#[test]
fn gguf_zero_dimensional_quantized_tensor_is_a_finding_not_a_panic() {
    let mut g = b"GGUF".to_vec();
    g.extend_from_slice(&3u32.to_le_bytes());
    g.extend_from_slice(&1u64.to_le_bytes());
    g.extend_from_slice(&0u64.to_le_bytes());
    g.extend_from_slice(&1u64.to_le_bytes());
    g.push(b'q');
    g.extend_from_slice(&0u32.to_le_bytes()); // n_dims
    g.extend_from_slice(&2u32.to_le_bytes()); // Q4_0, block 32
    g.extend_from_slice(&0u64.to_le_bytes());
    g.resize(64, 0);
    assert_finding(&gguf(&g), "first dimension 1 is not a multiple of the Q4_0 block size 32");
}

// ---------------------------------------------------------------- joblib

fn joblib_bytes(name: &str) -> Vec<u8> {
    bytes(&format!("joblib/{name}"))
}

#[test]
fn joblib_array_data_is_skipped_by_its_declared_size() {
    use modelgate::artifacts::pickle::{analyze, GlobalsPolicy};
    let model = joblib_bytes("model.joblib");
    let report = analyze(&model, GlobalsPolicy::Allow);
    assert!(report.safe, "{:#?}", report.findings);
    assert_eq!(report.pickles, 1);
    assert!(report.globals.iter().any(|g| g == "joblib.numpy_pickle.NumpyArrayWrapper"), "{:?}", report.globals);
    // A stream cut inside the array data is truncated, not a shorter array.
    let hostile = joblib_bytes("payload-after-array.joblib");
    let cut = &hostile[..hostile.len() - 60];
    let report = analyze(cut, GlobalsPolicy::Deny);
    assert!(!report.safe);
    assert!(report.findings.iter().any(|f| f.why.contains("joblib array data")), "{:#?}", report.findings);
    // The payload after the array is found at its offset, under either policy.
    for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
        let report = analyze(&hostile, policy);
        let finding = report.findings.iter().find(|f| f.global.as_deref() == Some("posix.system")).expect("found");
        let at = finding.offset.expect("offset") as usize;
        assert_eq!(hostile[at], 0x93, "STACK_GLOBAL at the reported offset");
    }
}

// ---------------------------------------------------------------- ONNX

fn onnx(name: &str) -> FormatReport {
    let data = bytes(&format!("onnx/{name}"));
    assert_eq!(detect(&data, data.len() as u64), Format::Onnx, "{name}");
    modelgate::artifacts::formats::check_onnx(std::io::Cursor::new(&data), data.len() as u64)
}

#[test]
fn onnx_models_written_by_the_onnx_package() {
    for clean in ["benign.onnx", "local-function.onnx", "external/model.onnx"] {
        assert_clean(&onnx(clean));
    }
    let benign = onnx("benign.onnx");
    assert_eq!(benign.details["nodes"], 4, "MatMul, If and the two branch nodes: {}", benign.details);
    for custom in ["custom-domain.onnx", "custom-in-subgraph.onnx"] {
        assert_finding(&onnx(custom), "custom domain \"ai.onnx.contrib\" (PyReverse)");
    }
    for (name, location) in [("external-absolute.onnx", "/etc/passwd"), ("external-dotdot.onnx", "../../../etc/passwd")]
    {
        let report = onnx(name);
        assert_finding(&report, &format!("from {location:?}, outside the model's folder"));
        assert_eq!(report.findings[0].severity, Severity::Critical);
    }
}

#[test]
fn broken_onnx_is_unsafe() {
    let data = bytes("onnx/benign.onnx");
    for cut in [data.len() - 1, data.len() / 2, 12] {
        let report = modelgate::artifacts::formats::check_onnx(std::io::Cursor::new(&data[..cut]), cut as u64);
        assert_finding(&report, "not a readable ONNX model");
    }
    // A length that claims more than its message holds.
    let mut bad = data.clone();
    let graph_key = bad.iter().position(|&b| b == 0x3a).expect("graph field");
    bad[graph_key + 1] = 0x7f;
    let report = modelgate::artifacts::formats::check_onnx(std::io::Cursor::new(&bad), bad.len() as u64);
    assert!(!report.safe(), "{:#?}", report.findings);
}

// ---------------------------------------------------------------- SavedModel

#[test]
fn broken_savedmodels_are_unsafe() {
    use modelgate::artifacts::formats::check_savedmodel;
    let data = bytes("savedmodel/benign/saved_model.pb");
    assert_eq!(detect(&data, data.len() as u64), Format::SavedModel);
    assert!(check_savedmodel(std::io::Cursor::new(&data), data.len() as u64).safe());
    for cut in [data.len() - 3, data.len() / 3, 5] {
        let report = check_savedmodel(std::io::Cursor::new(&data[..cut]), cut as u64);
        assert_finding(&report, "not a readable SavedModel");
    }
}

#[test]
fn a_joblib_wrapper_built_indirectly_is_unsafe_under_either_policy() {
    use modelgate::artifacts::pickle::{analyze, GlobalsPolicy};
    // copyreg._reconstructor(NumpyArrayWrapper, object, None), then BUILD: joblib would read
    // array data after it, at a place the simulation cannot know.
    let pickle = b"\x80\x04\x8c\x07copyreg\x8c\x0e_reconstructor\x93\x8c\x13joblib.numpy_pickle\
\x8c\x11NumpyArrayWrapper\x93\x8c\x08builtins\x8c\x06object\x93N\x87R}b.";
    for policy in [GlobalsPolicy::Allow, GlobalsPolicy::Deny] {
        let report = analyze(pickle, policy);
        assert!(!report.safe, "{policy:?}");
        assert!(report.findings.iter().any(|f| f.why.contains("may be an array wrapper")), "{:#?}", report.findings);
    }
}

// ---------------------------------------------------------------- mutations

/// Every new format's fixtures with bytes changed all along them: a verdict, never a
/// panic, and a file called safe has no high finding.
#[test]
fn mutated_fixtures_never_panic_and_never_pass_with_findings() {
    use modelgate::artifacts::scan::{scan_bytes, ScanOptions};
    let options = ScanOptions { max_nested_bytes: 8 << 20, max_pickle_bytes: 8 << 20, ..ScanOptions::default() };
    let fixtures = [
        "joblib/model.joblib",
        "joblib/model.joblib.zlib",
        "joblib/model.joblib.xz",
        "joblib/model.joblib.lz4",
        "joblib/payload-after-array.joblib",
        "nested/zip-in-zip.zip",
        "onnx/benign.onnx",
        "onnx/external-dotdot.onnx",
        "keras/lambda.h5",
        "savedmodel/benign/saved_model.pb",
    ];
    let mut scans = 0;
    for name in fixtures {
        let original = bytes(name);
        let stride = original.len().div_ceil(500).max(1);
        for at in (0..original.len()).step_by(stride) {
            for flip in [0x01u8, 0xff] {
                let mut mutated = original.clone();
                mutated[at] ^= flip;
                let file = scan_bytes(&mutated, name, options);
                assert!(
                    !file.safe || file.findings.iter().all(|f| f.severity < Severity::High),
                    "{name} byte {at}: {file:?}"
                );
                scans += 1;
            }
        }
    }
    assert!(scans > 5_000, "{scans}");
}
