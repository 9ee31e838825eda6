//! The layering rule (README, "How it is built"): `src/core` decides and
//! never touches the OS, and imports flow one way. This test fails the
//! build when a file breaks it.

use std::fs;
use std::path::Path;

fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), fs::read_to_string(&p).unwrap()));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

/// Lines of code, without comments (a doc comment may name what it avoids).
fn code(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
}

#[test]
fn the_core_makes_no_syscalls_reads_no_clock_and_imports_nothing_else_of_the_crate() {
    let forbidden = [
        "nix::",
        "libc::",
        "std::fs",
        "std::process",
        "Instant::now",
        "SystemTime",
        "std::net",
        "std::os",
        "unsafe ",
        "unsafe{",
        "crate::os",
        "crate::files",
        "crate::run",
        "crate::cli",
        "crate::verbs",
        "crate::error",
    ];
    let mut found = vec![];
    for (path, text) in sources("src/core") {
        for (n, line) in code(&text) {
            for f in forbidden {
                if line.contains(f) {
                    found.push(format!("{path}:{n}: `{f}` in: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core must stay pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn imports_flow_one_way() {
    // layer -> the crate modules it may not import
    let rules = [
        (
            "src/os",
            &["crate::run", "crate::verbs", "crate::cli", "crate::files"][..],
        ),
        (
            "src/files",
            &["crate::run", "crate::verbs", "crate::cli", "crate::os"][..],
        ),
        (
            "src/cli",
            &["crate::run", "crate::verbs", "crate::os", "crate::files"][..],
        ),
        ("src/verbs", &["crate::run"][..]),
        ("src/run", &["crate::verbs", "crate::cli"][..]),
    ];
    let mut found = vec![];
    for (dir, banned) in rules {
        for (path, text) in sources(dir) {
            for (n, line) in code(&text) {
                for b in banned {
                    if line.contains(b) {
                        found.push(format!("{path}:{n}: {dir} imports {b}"));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn unsafe_lives_only_in_the_os_layer_and_each_block_says_why() {
    let mut found = vec![];
    for dir in ["src/core", "src/cli", "src/files", "src/run", "src/verbs"] {
        for (path, text) in sources(dir) {
            for (n, line) in code(&text) {
                if line.contains("unsafe ") || line.contains("unsafe{") {
                    found.push(format!("{path}:{n}: unsafe outside src/os"));
                }
            }
        }
    }
    for (path, text) in sources("src/os") {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let l = line.split("//").next().unwrap_or("");
            if !(l.contains("unsafe {") || l.contains("unsafe fn")) {
                continue;
            }
            // A SAFETY comment (or a `# Safety` doc) within the 8 lines above.
            let above = &lines[i.saturating_sub(8)..i];
            let said = above
                .iter()
                .any(|a| a.contains("SAFETY:") || a.contains("# Safety"))
                || line.contains("SAFETY:");
            if !said {
                found.push(format!("{path}:{}: unsafe without a SAFETY comment", i + 1));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
