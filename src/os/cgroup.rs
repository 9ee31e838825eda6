//! The OOM-kill check on ctlinit's own memory cgroup.
//!
//! A daemon killed by SIGKILL looks the same whether an operator sent the
//! signal or the kernel's OOM killer picked it, and only the second needs a
//! bigger memory limit. The kernel counts OOM kills per memory cgroup
//! (`oom_kill` in v2 `memory.events`, v1 `memory.oom_control` on kernels
//! ≥ 4.13), so comparing that counter at the start and end of a run tells the
//! two apart without polling. The only hard part is finding the directory:
//! `/proc/self/cgroup` names the cgroup as seen from our cgroup namespace,
//! while a container usually mounts a sub-tree of the hierarchy, so the path
//! must be translated through the mount's root in `/proc/self/mountinfo`
//! (see [`resolve`] for the rule). Anything unreadable or ambiguous yields
//! `None`: a missed report leaves the plain "killed by SIGKILL" message, which
//! is still true, whereas a wrong cgroup could blame the OOM killer falsely.

use std::path::{Path, PathBuf};

pub use crate::core::events::OomReading;

/// The two files of ctlinit's memory cgroup that the check reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryCgroup {
    /// v2 `memory.events` or v1 `memory.oom_control`.
    counter: PathBuf,
    /// v2 `memory.max` or v1 `memory.limit_in_bytes`.
    limit: PathBuf,
}

/// Which cgroup hierarchy a candidate directory belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// ctlinit's cgroup paths, as `/proc/self/cgroup` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfCgroup {
    /// The `0::` line: the cgroup v2 path.
    pub unified: Option<String>,
    /// The v1 line whose controller list includes `memory`.
    pub memory_v1: Option<String>,
}

/// The fields of one `/proc/self/mountinfo` line that the lookup needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Which directory of the hierarchy appears at the mount point.
    pub root: String,
    pub mount_point: String,
    pub fstype: String,
    pub super_options: String,
}

/// /proc and cgroupfs files here are a few hundred bytes; the cap only guards
/// against a surprise.
const SMALL_FILE_CAP: u64 = 64 * 1024;

/// The counter and limit files are a few lines: read as a run begins or ends.
const COUNTER_CAP: u64 = 4096;
/// mountinfo grows with every volume and can pass 64 KiB on a busy host
/// (about 150 bytes a mount); cutting it short could drop the cgroup mounts.
const MOUNTINFO_CAP: u64 = 1024 * 1024;

/// v1 reports "no limit" as the largest page-aligned value, whose exact
/// number depends on the page size; anything this large is no real limit.
const V1_UNLIMITED: u64 = 1 << 62;

impl MemoryCgroup {
    /// Finds ctlinit's own memory cgroup; None when there is none readable.
    pub fn find() -> Option<MemoryCgroup> {
        let self_cgroup = read_bounded(Path::new("/proc/self/cgroup"), SMALL_FILE_CAP)?;
        let mountinfo = read_bounded(Path::new("/proc/self/mountinfo"), MOUNTINFO_CAP)?;
        let found = candidates(&self_cgroup, &mountinfo)
            .into_iter()
            .find_map(|(version, dir)| MemoryCgroup::probe(version, &dir));
        match &found {
            Some(cg) => log::debug!("OOM check uses {}", cg.counter.display()),
            None => log::debug!("no readable memory cgroup; OOM check disabled"),
        }
        found
    }

    /// Accepts a directory only if its counter reads now, so that a
    /// mis-resolved path or an old kernel disables the check at start-up
    /// instead of failing silently at every run's end.
    fn probe(version: Version, dir: &Path) -> Option<MemoryCgroup> {
        let cg = match version {
            Version::V2 => {
                // In a hybrid layout the v2 tree exists without the memory
                // controller, and the v1 tree is the one to use.
                let controllers = read_bounded(&dir.join("cgroup.controllers"), SMALL_FILE_CAP)?;
                if !has_controller(&controllers, "memory") {
                    return None;
                }
                MemoryCgroup {
                    counter: dir.join("memory.events"),
                    limit: dir.join("memory.max"),
                }
            }
            Version::V1 => MemoryCgroup {
                counter: dir.join("memory.oom_control"),
                limit: dir.join("memory.limit_in_bytes"),
            },
        };
        cg.read().map(|_| cg)
    }

    /// Reads the counter and the limit now; None if the counter cannot be read.
    pub fn read(&self) -> Option<OomReading> {
        let kills = oom_kill_count(&read_bounded(&self.counter, COUNTER_CAP)?)?;
        let limit = read_bounded(&self.limit, COUNTER_CAP).and_then(|t| parse_limit(&t));
        Some(OomReading { kills, limit })
    }
}

/// Picks ctlinit's v2 path and v1 memory path out of `/proc/self/cgroup`.
pub fn parse_self_cgroup(text: &str) -> SelfCgroup {
    let mut out = SelfCgroup::default();
    for line in text.lines() {
        // The path may itself contain ':', so only the first two split.
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            out.unified = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            out.memory_v1 = Some(path.to_string());
        }
    }
    out
}

/// Parses one mountinfo line; None for anything malformed.
pub fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let mut fields = line.split_ascii_whitespace();
    let root = fields.nth(3)?;
    let mount_point = fields.next()?;
    // Optional fields ("shared:1", "master:2") vary in number and end at "-".
    let mut rest = fields.skip(1).skip_while(|f| *f != "-");
    rest.next()?;
    let fstype = rest.next()?;
    let _source = rest.next()?;
    let super_options = rest.next()?;
    Some(Mount {
        root: unescape(root),
        mount_point: unescape(mount_point),
        fstype: fstype.to_string(),
        super_options: super_options.to_string(),
    })
}

/// Undoes the kernel's `\ooo` escaping of space, tab, newline and backslash.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i + 1..i + 4).and_then(|d| {
            if bytes.get(i) != Some(&b'\\') || !d.iter().all(|b| (b'0'..=b'7').contains(b)) {
                return None;
            }
            let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            u8::try_from(value).ok()
        });
        match escaped {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.extend(bytes.get(i));
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `oom_kill N` line of `memory.events` (v2) or `memory.oom_control` (v1);
/// None when absent, as on v1 kernels before 4.13.
pub fn oom_kill_count(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut f = line.split_ascii_whitespace();
        // Exact key match: v2 also has `oom_group_kill`.
        if f.next()? != "oom_kill" {
            return None;
        }
        f.next()?.parse().ok()
    })
}

/// v2 `memory.max` or v1 `memory.limit_in_bytes`; None when unlimited or
/// unreadable.
pub fn parse_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < V1_UNLIMITED).then_some(value)
}

fn has_controller(controllers: &str, name: &str) -> bool {
    controllers.split_ascii_whitespace().any(|c| c == name)
}

/// Where a cgroup path appears under a mount, or None when it cannot be
/// known.
///
/// `cgroup_path` (from `/proc/self/cgroup`) and `mount_root` (mountinfo's 4th
/// field) are both shown relative to our cgroup namespace's root, so:
///
/// 1. A `..` component in either means it lies outside our namespace; the
///    way from the mount to our cgroup is then unknowable: None.
/// 2. If the path is under the mount root (component-wise, so `/fo` is not a
///    prefix of `/foo`), the directory is the mount point plus the rest of
///    the path. This covers the host (root `/`), a cgroup namespace (path
///    `/`, root `/`) and Docker v1 without one (path and root both
///    `/docker/<id>`, giving the mount point itself).
/// 3. Otherwise the mount's root is not `/`, so it is a bind of one cgroup,
///    which container runtimes make the container's own; the process was
///    moved after the mount was made (seen on Cloud Foundry, see OpenJDK
///    JDK-8343191). The mount point is the only view of it we have, so use it.
pub fn resolve(cgroup_path: &str, mount_root: &str, mount_point: &str) -> Option<PathBuf> {
    let path = components(cgroup_path);
    let root = components(mount_root);
    if path.contains(&"..") || root.contains(&"..") {
        return None;
    }
    let rest = match path.strip_prefix(root.as_slice()) {
        Some(rest) => rest,
        None => &[],
    };
    let mut dir = PathBuf::from(mount_point);
    dir.extend(rest);
    Some(dir)
}

fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// The directories that may be ctlinit's memory cgroup, best first: v2
/// before v1, mounts in mountinfo order. Pure, so the whole lookup can be
/// tested on canned files; `find` keeps the first that reads.
pub fn candidates(self_cgroup: &str, mountinfo: &str) -> Vec<(Version, PathBuf)> {
    let own = parse_self_cgroup(self_cgroup);
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(parse_mountinfo_line).collect();
    let mut out = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        // A later mount on the same point hides this one; resolving through
        // the hidden one would apply the wrong root to what we actually read.
        if mounts
            .iter()
            .skip(i + 1)
            .any(|later| later.mount_point == m.mount_point)
        {
            continue;
        }
        let entry = match (m.fstype.as_str(), &own.unified, &own.memory_v1) {
            ("cgroup2", Some(path), _) => {
                resolve(path, &m.root, &m.mount_point).map(|d| (Version::V2, d))
            }
            ("cgroup", _, Some(path)) if m.super_options.split(',').any(|o| o == "memory") => {
                resolve(path, &m.root, &m.mount_point).map(|d| (Version::V1, d))
            }
            _ => None,
        };
        out.extend(entry);
    }
    // Stable: keeps mountinfo order within each version.
    out.sort_by_key(|(v, _)| *v != Version::V2);
    out
}

/// Reads at most `cap` bytes; when the cap cuts a line, drops that partial
/// line so that no parser sees a truncated path or number.
fn read_bounded(path: &Path, cap: u64) -> Option<String> {
    let mut buf = vec![0u8; cap as usize];
    crate::os::procfs::read_small(path.to_str()?, &mut buf).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_EVENTS: &str = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
    const V1_OOM_CONTROL: &str = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
    const V1_OOM_CONTROL_OLD: &str = "oom_kill_disable 0\nunder_oom 0\n";

    const HOST_V1_MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
39 31 0:36 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,memory
";

    const DOCKER_V1_MOUNTINFO: &str = "\
600 580 0:52 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
601 600 0:29 /docker/4f1e2d /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime master:11 - cgroup cgroup rw,xattr,name=systemd
605 600 0:33 /docker/4f1e2d /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:16 - cgroup cgroup rw,cpu,cpuacct
608 600 0:36 /docker/4f1e2d /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:19 - cgroup cgroup rw,memory
";
    const DOCKER_V1_CGROUP: &str = "\
12:memory:/docker/4f1e2d
4:cpu,cpuacct:/docker/4f1e2d
1:name=systemd:/docker/4f1e2d
";

    const V2_NS_MOUNTINFO: &str = "\
700 690 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot
";

    #[test]
    fn v2_events_count() {
        assert_eq!(oom_kill_count(V2_EVENTS), Some(2));
    }

    #[test]
    fn v1_oom_control_count() {
        assert_eq!(oom_kill_count(V1_OOM_CONTROL), Some(1));
    }

    #[test]
    fn old_v1_kernel_has_no_count() {
        assert_eq!(oom_kill_count(V1_OOM_CONTROL_OLD), None);
        assert_eq!(oom_kill_count(""), None);
        assert_eq!(oom_kill_count("oom_kill\n"), None);
        assert_eq!(oom_kill_count("oom_kill x\n"), None);
    }

    #[test]
    fn group_kill_is_not_kill() {
        assert_eq!(oom_kill_count("oom_group_kill 5\noom_kill 7\n"), Some(7));
        assert_eq!(oom_kill_count("oom_group_kill 5\n"), None);
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("67108864\n"), Some(64 << 20));
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("9223372036854775807\n"), None);
        assert_eq!(parse_limit("4611686018427387904"), None);
        assert_eq!(parse_limit("4611686018427387903"), Some((1 << 62) - 1));
        assert_eq!(parse_limit(""), None);
        assert_eq!(parse_limit("-1"), None);
    }

    #[test]
    fn self_cgroup_v2_only() {
        let c = parse_self_cgroup("0::/system.slice/app.service\n");
        assert_eq!(c.unified.as_deref(), Some("/system.slice/app.service"));
        assert_eq!(c.memory_v1, None);
    }

    #[test]
    fn self_cgroup_v1_only() {
        let c = parse_self_cgroup(DOCKER_V1_CGROUP);
        assert_eq!(c.unified, None);
        assert_eq!(c.memory_v1.as_deref(), Some("/docker/4f1e2d"));
    }

    #[test]
    fn self_cgroup_hybrid() {
        let text = "9:name=systemd:/\n4:memory:/process_api/3e7e\n1:cpu:/\n0::/\n";
        let c = parse_self_cgroup(text);
        assert_eq!(c.unified.as_deref(), Some("/"));
        assert_eq!(c.memory_v1.as_deref(), Some("/process_api/3e7e"));
    }

    #[test]
    fn self_cgroup_memory_shares_a_line() {
        let c = parse_self_cgroup("4:cpu,memory:/x\n3:memory_extra:/no\n2:name=memory:/no2\n");
        assert_eq!(c.memory_v1.as_deref(), Some("/x"));
        // A colon inside the path survives.
        let c = parse_self_cgroup("5:memory:/a:b\n");
        assert_eq!(c.memory_v1.as_deref(), Some("/a:b"));
        assert_eq!(parse_self_cgroup("garbage\n\n"), SelfCgroup::default());
    }

    #[test]
    fn mountinfo_host_v1() {
        let m = parse_mountinfo_line(
            "39 31 0:36 / /sys/fs/cgroup/memory rw,nosuid shared:19 - cgroup cgroup rw,memory",
        );
        assert_eq!(
            m,
            Some(Mount {
                root: "/".into(),
                mount_point: "/sys/fs/cgroup/memory".into(),
                fstype: "cgroup".into(),
                super_options: "rw,memory".into(),
            })
        );
    }

    #[test]
    fn mountinfo_docker_v1_and_v2_ns() {
        let lines: Vec<Mount> = DOCKER_V1_MOUNTINFO
            .lines()
            .filter_map(parse_mountinfo_line)
            .collect();
        assert_eq!(lines.len(), 4);
        let memory = lines.get(3);
        assert_eq!(memory.map(|m| m.root.as_str()), Some("/docker/4f1e2d"));
        assert_eq!(
            memory.map(|m| m.mount_point.as_str()),
            Some("/sys/fs/cgroup/memory")
        );
        let m = parse_mountinfo_line(V2_NS_MOUNTINFO.trim_end());
        assert_eq!(m.as_ref().map(|m| m.fstype.as_str()), Some("cgroup2"));
        assert_eq!(m.map(|m| m.root), Some("/".to_string()));
    }

    #[test]
    fn mountinfo_escapes_and_optional_fields() {
        let m = parse_mountinfo_line(
            "40 31 0:36 /a\\040b /mnt/my\\040cg\\011x\\134y rw shared:1 master:2 - cgroup2 none rw",
        );
        let m = m.as_ref();
        assert_eq!(m.map(|m| m.root.as_str()), Some("/a b"));
        assert_eq!(m.map(|m| m.mount_point.as_str()), Some("/mnt/my cg\tx\\y"));
        assert_eq!(m.map(|m| m.super_options.as_str()), Some("rw"));
        // Not an escape: left alone; out-of-range octal left alone.
        assert_eq!(unescape("a\\04"), "a\\04");
        assert_eq!(unescape("a\\777b"), "a\\777b");
        assert_eq!(unescape("\\"), "\\");
        assert_eq!(parse_mountinfo_line("1 2 0:3 / /x rw"), None);
        assert_eq!(parse_mountinfo_line("1 2 0:3 / /x rw - cgroup"), None);
        assert_eq!(parse_mountinfo_line(""), None);
    }

    #[test]
    fn resolve_rule() {
        let mp = "/sys/fs/cgroup/memory";
        let p = |s: &str| Some(PathBuf::from(s));
        // Host: root "/".
        assert_eq!(
            resolve("/user.slice/x", "/", mp),
            p("/sys/fs/cgroup/memory/user.slice/x")
        );
        assert_eq!(resolve("/", "/", mp), p(mp));
        // Docker v1 without a cgroup namespace: the mount is our cgroup.
        assert_eq!(resolve("/docker/abc", "/docker/abc", mp), p(mp));
        // A child of the mounted cgroup.
        assert_eq!(
            resolve("/docker/abc/init.scope", "/docker/abc/", mp),
            p("/sys/fs/cgroup/memory/init.scope")
        );
        // Component-wise prefix only.
        assert_eq!(resolve("/docker/abcd", "/docker/abc", mp), p(mp));
        // Moved after the mount was made: fall back to the mount point.
        assert_eq!(resolve("/garden/bad/x", "/garden/good/x", mp), p(mp));
        // Outside our namespace: unknowable.
        assert_eq!(resolve("/", "/../..", mp), None);
        assert_eq!(resolve("/../x", "/", mp), None);
        // Doubled slashes change nothing.
        assert_eq!(resolve("//a//b/", "/", "/cg"), p("/cg/a/b"));
    }

    #[test]
    fn candidates_hybrid_host() {
        let own = "9:name=systemd:/\n4:memory:/process_api/3e7e\n0::/\n";
        let c = candidates(own, HOST_V1_MOUNTINFO);
        assert_eq!(
            c,
            vec![
                (Version::V2, PathBuf::from("/sys/fs/cgroup/unified")),
                (
                    Version::V1,
                    PathBuf::from("/sys/fs/cgroup/memory/process_api/3e7e")
                ),
            ]
        );
    }

    #[test]
    fn candidates_docker_v1() {
        let c = candidates(DOCKER_V1_CGROUP, DOCKER_V1_MOUNTINFO);
        assert_eq!(
            c,
            vec![(Version::V1, PathBuf::from("/sys/fs/cgroup/memory"))]
        );
    }

    #[test]
    fn candidates_v2_namespace() {
        let c = candidates("0::/\n", V2_NS_MOUNTINFO);
        assert_eq!(c, vec![(Version::V2, PathBuf::from("/sys/fs/cgroup"))]);
    }

    #[test]
    fn candidates_hidden_mount_is_skipped() {
        let mountinfo = "\
1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
2 0 0:1 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw
";
        let c = candidates("0::/kubepods/pod1/c1\n", mountinfo);
        assert_eq!(c, vec![(Version::V2, PathBuf::from("/sys/fs/cgroup/c1"))]);
    }

    #[test]
    fn candidates_without_memory() {
        assert_eq!(candidates("1:cpu:/\n", HOST_V1_MOUNTINFO), vec![]);
        assert_eq!(candidates("", ""), vec![]);
    }

    #[test]
    fn controllers() {
        assert!(has_controller(
            "cpuset cpu io memory hugetlb pids\n",
            "memory"
        ));
        assert!(!has_controller("hugetlb\n", "memory"));
        assert!(!has_controller("", "memory"));
    }

    #[test]
    fn bounded_read_drops_cut_line() {
        let path = std::env::temp_dir().join(format!("cgroup-test-{}", std::process::id()));
        let written = std::fs::write(&path, "line one\nline two\n");
        assert!(written.is_ok());
        assert_eq!(read_bounded(&path, 12).as_deref(), Some("line one\n"));
        assert_eq!(
            read_bounded(&path, 1024).as_deref(),
            Some("line one\nline two\n")
        );
        let _ = std::fs::remove_file(&path);
        assert_eq!(read_bounded(&path, 1024), None);
    }

    #[test]
    fn this_machine() {
        let found = MemoryCgroup::find();
        println!("memory cgroup: {found:?}");
        if let Some(cg) = found {
            let reading = cg.read();
            println!(
                "reading: {reading:?}, limit {}",
                crate::core::format::limit(reading.and_then(|r| r.limit))
            );
            // find() only returns a cgroup whose counter it could read.
            assert!(reading.is_some());
        }
    }
}
