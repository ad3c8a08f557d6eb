//! The THREAD algorithms of RFC 5256 section 3 over the messages a search
//! matched, pure and without I/O: [`ordered_subject`] and [`references`].
//!
//! Where the RFC leaves choices, Dovecot 2.3's behaviour is followed (the
//! differential test compares against it; see `index-thread*.c` and
//! `imap-thread.c` there):
//!
//! - Only the matching messages take part; their order in the input
//!   (sequence order) is the "UID" tie-breaker everywhere.
//! - Dates are the SORT DATE key ([`crate::sortkeys::sort_date`]).
//! - ORDEREDSUBJECT sorts by (base subject, date, order), groups equal base
//!   subjects (also the empty one) and orders the threads by (date of their
//!   first message, first message).
//! - REFERENCES step 1: a duplicate Message-ID belongs to the first message
//!   with it, later ones get none; References links are made oldest first
//!   and an existing parent is kept; the message's own parent (last
//!   reference) replaces a different existing one, and no link that would
//!   make a loop is made.
//! - Steps 2-4: a dummy without messages below it disappears; a message
//!   under dummies moves to its nearest non-dummy ancestor (the topmost
//!   dummy if there is none); a root dummy with one child is replaced by it.
//! - The root set is sorted by date before step 5 (a dummy by its oldest
//!   child), and step 5 visits it in that order: the subject of a dummy is
//!   that of its oldest child, and merging happens in that order too. After
//!   merging the roots are sorted again.
//! - Siblings are sorted by (date, order) at every level.

use std::collections::HashMap;

use crate::sortkeys::MAX_REFERENCES;

/// What THREAD needs of one matching message.
#[derive(Debug, Clone, Copy)]
pub struct ThreadMsg<'a> {
    /// The number the response names (sequence number or UID).
    pub id: u32,
    /// The SORT DATE key.
    pub date: i64,
    /// The base subject in comparison form, and whether it was a reply or
    /// forward ([`crate::sortkeys::base_subject`]).
    pub base_subject: &'a str,
    pub reply: bool,
    pub message_id: Option<&'a str>,
    /// The parent chain, oldest first: the References identifiers, or the
    /// In-Reply-To one when References has none.
    pub references: &'a [String],
}

/// Threads as a flat tree (no recursion when dropped or walked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forest {
    pub nodes: Vec<ForestNode>,
    /// Indexes into `nodes`, in output order.
    pub roots: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForestNode {
    /// `None` for a dummy (only at the root, with at least two children).
    pub id: Option<u32>,
    /// Indexes into [`Forest::nodes`], in output order.
    pub children: Vec<usize>,
}

/// THREAD=ORDEREDSUBJECT (RFC 5256 3, "ORDEREDSUBJECT").
pub fn ordered_subject(msgs: &[ThreadMsg<'_>]) -> Forest {
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by(|&a, &b| {
        msgs[a]
            .base_subject
            .cmp(msgs[b].base_subject)
            .then(msgs[a].date.cmp(&msgs[b].date))
            .then(a.cmp(&b))
    });
    let mut groups: Vec<&[usize]> = order
        .chunk_by(|&a, &b| msgs[a].base_subject == msgs[b].base_subject)
        .collect();
    groups.sort_by_key(|g| (msgs[g[0]].date, g[0]));
    let mut f = Forest::default();
    for g in groups {
        let root = f.nodes.len();
        f.roots.push(root);
        f.nodes.push(ForestNode {
            id: Some(msgs[g[0]].id),
            children: (root + 1..root + g.len()).collect(),
        });
        for &m in &g[1..] {
            f.nodes.push(ForestNode {
                id: Some(msgs[m].id),
                children: Vec::new(),
            });
        }
    }
    f
}

/// A node of the Message-ID graph (step 1).
#[derive(Debug, Clone, Copy, Default)]
struct Link {
    msg: Option<usize>,
    parent: Option<usize>,
    children: u32,
}

struct Links<'a> {
    nodes: Vec<Link>,
    by_id: HashMap<&'a str, usize>,
}

impl<'a> Links<'a> {
    fn node(&mut self, id: &'a str) -> usize {
        let next = self.nodes.len();
        let n = *self.by_id.entry(id).or_insert(next);
        if n == next {
            self.nodes.push(Link::default());
        }
        n
    }

    fn fresh(&mut self) -> usize {
        self.nodes.push(Link::default());
        self.nodes.len() - 1
    }

    /// Makes `p` the parent of `c` unless `c` has a parent already (the
    /// existing link is kept) or it would make a loop.
    fn link(&mut self, p: usize, c: usize) {
        if self.nodes[c].parent.is_some() || self.is_ancestor(c, p) {
            return;
        }
        self.nodes[c].parent = Some(p);
        self.nodes[p].children += 1;
    }

    fn unlink(&mut self, c: usize) {
        if let Some(p) = self.nodes[c].parent.take() {
            self.nodes[p].children -= 1;
        }
    }

    /// Whether `a` is `n` or above it. `a` has no parent here, so only a
    /// node with children can be above another one.
    fn is_ancestor(&self, a: usize, mut n: usize) -> bool {
        if a == n {
            return true;
        }
        if self.nodes[a].children == 0 {
            return false;
        }
        while let Some(p) = self.nodes[n].parent {
            if p == a {
                return true;
            }
            n = p;
        }
        false
    }
}

/// A thread root during steps 4-5.
#[derive(Debug, Clone, Copy)]
struct Root {
    /// Index into the children table (a link node, or a dummy made by
    /// step 5 beyond them).
    node: usize,
    dummy: bool,
    ignore: bool,
    reply: bool,
    /// The root whose thread this one joins (step 5), if any.
    joins: Option<usize>,
    key: (i64, usize),
}

struct Build<'m, 'a> {
    msgs: &'m [ThreadMsg<'a>],
    /// The message of each node (`None` for dummies).
    msg: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    roots: Vec<Root>,
}

impl Build<'_, '_> {
    fn key(&self, node: usize) -> (i64, usize) {
        match self.msg[node] {
            Some(m) => (self.msgs[m].date, m),
            None => (i64::MAX, usize::MAX),
        }
    }

    fn sort_children(&mut self, node: usize) {
        let mut c = std::mem::take(&mut self.children[node]);
        c.sort_by_key(|&n| self.key(n));
        self.children[node] = c;
    }

    /// Step 4's root handling and the root order: childless dummies go,
    /// a dummy with one child is replaced by it, the others sort by their
    /// oldest child.
    fn sort_roots(&mut self) {
        for r in 0..self.roots.len() {
            let root = self.roots[r];
            if root.ignore {
                continue;
            }
            if !root.dummy {
                self.roots[r].key = self.key(root.node);
                continue;
            }
            self.sort_children(root.node);
            match self.children[root.node].as_slice() {
                [] => self.roots[r].ignore = true,
                &[only] => {
                    self.roots[r].node = only;
                    self.roots[r].dummy = false;
                    self.roots[r].key = self.key(only);
                }
                &[first, ..] => self.roots[r].key = self.key(first),
            }
        }
        self.roots.sort_by_key(|r| (r.ignore, r.key));
    }

    /// Step 5 (B): the subject table, in root order.
    fn gather_subjects(&mut self) {
        let mut table: HashMap<&str, usize> = HashMap::new();
        for r in 0..self.roots.len() {
            let root = self.roots[r];
            if root.ignore {
                continue;
            }
            let node = if root.dummy {
                self.children[root.node][0]
            } else {
                root.node
            };
            let Some(m) = self.msg[node] else { continue };
            let (subject, reply) = (self.msgs[m].base_subject, self.msgs[m].reply);
            if subject.is_empty() {
                continue;
            }
            match table.get(subject).copied() {
                None => {
                    table.insert(subject, r);
                }
                Some(h) => {
                    let held = self.roots[h];
                    if !held.dummy && (root.dummy || (held.reply && !reply)) {
                        self.roots[h].joins = Some(r);
                        table.insert(subject, r);
                    } else {
                        self.roots[r].joins = Some(h);
                    }
                }
            }
            self.roots[r].reply = reply;
        }
    }

    /// Step 5 (C): merges the threads with the same subject; true if any.
    fn merge_subjects(&mut self) -> bool {
        let mut changed = false;
        for r in 0..self.roots.len() {
            let cur = self.roots[r];
            if cur.joins.is_none() || cur.ignore {
                continue;
            }
            let mut top = r;
            while let Some(t) = self.roots[top].joins {
                top = t;
            }
            let held = self.roots[top];
            changed = true;
            if cur.dummy {
                let moved = std::mem::take(&mut self.children[cur.node]);
                self.children[held.node].extend(moved);
            } else if held.dummy || (cur.reply && !held.reply) {
                self.children[held.node].push(cur.node);
            } else {
                let dummy = self.children.len();
                self.children.push(vec![held.node, cur.node]);
                self.msg.push(None);
                self.roots[top].joins = Some(self.roots.len());
                self.roots[top].ignore = true;
                self.roots.push(Root {
                    node: dummy,
                    dummy: true,
                    ignore: false,
                    reply: false,
                    joins: None,
                    key: (i64::MAX, usize::MAX),
                });
            }
            self.roots[r].ignore = true;
        }
        changed
    }

    fn into_forest(mut self) -> Forest {
        let mut f = Forest::default();
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for r in 0..self.roots.len() {
            let root = self.roots[r];
            if root.ignore {
                continue;
            }
            f.roots.push(f.nodes.len());
            stack.push((root.node, usize::MAX));
            while let Some((node, parent)) = stack.pop() {
                let idx = f.nodes.len();
                f.nodes.push(ForestNode {
                    id: self.msg[node].map(|m| self.msgs[m].id),
                    children: Vec::new(),
                });
                if parent != usize::MAX {
                    f.nodes[parent].children.push(idx);
                }
                self.sort_children(node);
                for &c in self.children[node].iter().rev() {
                    stack.push((c, idx));
                }
            }
        }
        f
    }
}

/// THREAD=REFERENCES (RFC 5256 3, "REFERENCES"), with the choices listed
/// in the module documentation. At most [`MAX_REFERENCES`] references per
/// message are used (the last ones).
pub fn references(msgs: &[ThreadMsg<'_>]) -> Forest {
    // (1) The Message-ID graph.
    let mut links = Links {
        nodes: Vec::with_capacity(msgs.len() * 2),
        by_id: HashMap::with_capacity(msgs.len() * 2),
    };
    for (i, m) in msgs.iter().enumerate() {
        let own = match m.message_id {
            Some(id) => {
                let n = links.node(id);
                if links.nodes[n].msg.is_none() {
                    n
                } else {
                    // (1)(A) a duplicate Message-ID: as if it had none.
                    links.fresh()
                }
            }
            None => links.fresh(),
        };
        links.nodes[own].msg = Some(i);
        let refs = &m.references[m.references.len().saturating_sub(MAX_REFERENCES)..];
        let mut parent = None;
        for r in refs {
            let n = links.node(r);
            if let Some(p) = parent {
                links.link(p, n);
            }
            parent = Some(n);
        }
        // (1)(C) the last reference is the parent, replacing another one.
        if links.nodes[own].parent.is_some() && links.nodes[own].parent != parent {
            links.unlink(own);
        }
        if let Some(p) = parent {
            links.link(p, own);
        }
    }

    // (2)-(3) The root set, messages under their nearest non-dummy
    // ancestor (the topmost dummy if none).
    let n = links.nodes.len();
    let msg: Vec<Option<usize>> = links.nodes.iter().map(|l| l.msg).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    // For dummies: the node their message descendants attach to.
    let mut attach: Vec<Option<usize>> = vec![None; n];
    let mut path = Vec::new();
    for idx in 0..n {
        let Some(parent) = links.nodes[idx].parent else {
            roots.push(Root {
                node: idx,
                dummy: msg[idx].is_none(),
                ignore: false,
                reply: false,
                joins: None,
                key: (i64::MAX, usize::MAX),
            });
            continue;
        };
        if msg[idx].is_none() {
            continue;
        }
        // Walk up through dummies, remembering the answer for each.
        let mut p = parent;
        path.clear();
        let target = loop {
            if msg[p].is_some() {
                break p;
            }
            if let Some(a) = attach[p] {
                break a;
            }
            path.push(p);
            match links.nodes[p].parent {
                Some(q) => p = q,
                None => break p,
            }
        };
        for &d in &path {
            attach[d] = Some(target);
        }
        children[target].push(idx);
    }
    drop(links);

    let mut b = Build {
        msgs,
        msg,
        children,
        roots,
    };
    // (4) with Dovecot's root order, then (5).
    b.sort_roots();
    b.gather_subjects();
    if b.merge_subjects() {
        b.sort_roots();
    }
    b.into_forest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sortkeys::base_subject;

    /// (id, date, subject, Message-ID, references)
    type Spec<'a> = (u32, i64, &'a str, Option<&'a str>, &'a [&'a str]);

    struct Owned {
        id: u32,
        date: i64,
        base: String,
        reply: bool,
        mid: Option<String>,
        refs: Vec<String>,
    }

    fn owned(specs: &[Spec<'_>]) -> Vec<Owned> {
        specs
            .iter()
            .map(|&(id, date, subject, mid, refs)| {
                let (base, reply) = base_subject(subject.as_bytes());
                Owned {
                    id,
                    date,
                    base,
                    reply,
                    mid: mid.map(str::to_string),
                    refs: refs.iter().map(|r| r.to_string()).collect(),
                }
            })
            .collect()
    }

    fn msgs(o: &[Owned]) -> Vec<ThreadMsg<'_>> {
        o.iter()
            .map(|m| ThreadMsg {
                id: m.id,
                date: m.date,
                base_subject: &m.base,
                reply: m.reply,
                message_id: m.mid.as_deref(),
                references: &m.refs,
            })
            .collect()
    }

    /// The forest in RFC 5256 notation (a dummy is written as `?`).
    fn show(f: &Forest) -> String {
        fn node(f: &Forest, i: usize, out: &mut String) {
            let n = &f.nodes[i];
            match n.id {
                Some(id) => out.push_str(&id.to_string()),
                None => out.push('?'),
            }
            match n.children.as_slice() {
                [] => {}
                [only] => {
                    out.push(' ');
                    node(f, *only, out);
                }
                many => {
                    out.push(' ');
                    for &c in many {
                        out.push('(');
                        node(f, c, out);
                        out.push(')');
                    }
                }
            }
        }
        let mut out = String::new();
        for &r in &f.roots {
            out.push('(');
            node(f, r, &mut out);
            out.push(')');
        }
        out
    }

    fn refs(specs: &[Spec<'_>]) -> String {
        let o = owned(specs);
        show(&references(&msgs(&o)))
    }

    fn subj(specs: &[Spec<'_>]) -> String {
        let o = owned(specs);
        show(&ordered_subject(&msgs(&o)))
    }

    #[test]
    fn ordered_subject_groups_and_orders() {
        let specs: &[Spec<'_>] = &[
            (1, 50, "b", None, &[]),
            (2, 10, "Re: a", None, &[]),
            (3, 5, "a", None, &[]),
            (4, 60, "Re: b", None, &[]),
            (5, 20, "c", None, &[]),
            (6, 1, "a (fwd)", None, &[]),
            (7, 70, "", None, &[]),
        ];
        // a: 6(1) 3(5) 2(10); c: 5(20); b: 1(50) 4(60); "": 7(70)
        assert_eq!(subj(specs), "(6 (3)(2))(5)(1 4)(7)");
        assert_eq!(subj(&[]), "");
    }

    #[test]
    fn references_chain_and_siblings() {
        let specs: &[Spec<'_>] = &[
            (1, 10, "hello", Some("a@x"), &[]),
            (2, 20, "Re: hello", Some("b@x"), &["a@x"]),
            (3, 30, "Re: hello", Some("c@x"), &["a@x", "b@x"]),
            (4, 25, "Re: hello", Some("d@x"), &["a@x"]),
            (5, 5, "other", Some("e@x"), &[]),
        ];
        assert_eq!(refs(specs), "(5)(1 (2 3)(4))");
    }

    #[test]
    fn references_missing_parents_and_dummies() {
        // 2 and 3 answer a message that is not there: a dummy root with two
        // children stays a dummy; 4 answers a missing one alone: promoted.
        let specs: &[Spec<'_>] = &[
            (1, 10, "x", Some("m1@x"), &[]),
            (2, 20, "Re: gone", Some("m2@x"), &["gone@x"]),
            (3, 30, "Re: gone", Some("m3@x"), &["gone@x"]),
            (4, 40, "Re: lost", Some("m4@x"), &["lost@x", "lost2@x"]),
        ];
        assert_eq!(refs(specs), "(1)(? (2)(3))(4)");
        // A message under a chain of dummies hangs from its nearest real
        // ancestor.
        let specs: &[Spec<'_>] = &[
            (1, 10, "x", Some("m1@x"), &[]),
            (2, 20, "y", Some("m2@x"), &["m1@x", "g1@x", "g2@x"]),
            (3, 30, "z", Some("m3@x"), &["m1@x", "g1@x", "g3@x"]),
        ];
        assert_eq!(refs(specs), "(1 (2)(3))");
    }

    #[test]
    fn references_duplicates_and_loops() {
        // 2 repeats 1's Message-ID: it counts as having none, so 3's
        // reference means 1.
        let specs: &[Spec<'_>] = &[
            (1, 10, "p", Some("a@x"), &[]),
            (2, 20, "q", Some("a@x"), &[]),
            (3, 30, "r", Some("c@x"), &["a@x"]),
        ];
        assert_eq!(refs(specs), "(1 3)(2)");
        // Mutual references: the second link would make a loop.
        let specs: &[Spec<'_>] = &[
            (1, 10, "p", Some("a@x"), &["b@x"]),
            (2, 20, "q", Some("b@x"), &["a@x"]),
        ];
        assert_eq!(refs(specs), "(2 1)");
        // A message referring to itself.
        let specs: &[Spec<'_>] = &[(1, 10, "p", Some("a@x"), &["a@x"])];
        assert_eq!(refs(specs), "(1)");
    }

    #[test]
    fn references_last_reference_replaces_parent() {
        // 2 says b's parent is a; then b itself (3) says its parent is c.
        let specs: &[Spec<'_>] = &[
            (1, 10, "s1", Some("a@x"), &[]),
            (2, 20, "s2", Some("d@x"), &["a@x", "b@x"]),
            (3, 30, "s3", Some("b@x"), &["c@x"]),
            (4, 40, "s4", Some("c@x"), &[]),
        ];
        assert_eq!(refs(specs), "(1)(4 3 2)");
    }

    #[test]
    fn references_subject_grouping() {
        // Step 5: roots with the same base subject join. A reply joins a
        // non-reply; two non-replies get a dummy parent.
        let specs: &[Spec<'_>] = &[
            (1, 10, "Hello", Some("a@x"), &[]),
            (2, 20, "Re: hello", Some("b@x"), &[]),
            (3, 30, "hello", Some("c@x"), &[]),
            (4, 40, "other", Some("d@x"), &[]),
            (5, 50, "", Some("e@x"), &[]),
            (6, 60, "", Some("f@x"), &[]),
        ];
        assert_eq!(refs(specs), "(? (1 2)(3))(4)(5)(6)");
        // A non-reply found after a reply takes the table; the reply joins it.
        let specs: &[Spec<'_>] = &[
            (1, 10, "Re: topic", Some("a@x"), &[]),
            (2, 20, "topic", Some("b@x"), &[]),
        ];
        assert_eq!(refs(specs), "(2 1)");
        // Two replies: a dummy.
        let specs: &[Spec<'_>] = &[
            (1, 10, "Re: topic", Some("a@x"), &[]),
            (2, 20, "Fwd: topic", Some("b@x"), &[]),
        ];
        assert_eq!(refs(specs), "(? (1)(2))");
        // Dummies merge their children; a dummy's subject is its oldest
        // child's.
        let specs: &[Spec<'_>] = &[
            (1, 10, "Re: t", Some("a@x"), &["g1@x"]),
            (2, 20, "Re: t", Some("b@x"), &["g1@x"]),
            (3, 30, "Re: t", Some("c@x"), &["g2@x"]),
            (4, 40, "Re: t", Some("d@x"), &["g2@x"]),
        ];
        assert_eq!(refs(specs), "(? (1)(2)(3)(4))");
    }

    #[test]
    fn references_sorts_by_date_then_order() {
        let specs: &[Spec<'_>] = &[
            (1, 30, "a", Some("a@x"), &[]),
            (2, 10, "b", Some("b@x"), &["a@x"]),
            (3, 10, "c", Some("c@x"), &["a@x"]),
            (4, 5, "d", Some("d@x"), &[]),
        ];
        assert_eq!(refs(specs), "(4)(1 (2)(3))");
    }

    #[test]
    fn long_chains_are_flat_and_bounded() {
        let n = 50_000u32;
        let o: Vec<Owned> = (0..n)
            .map(|i| Owned {
                id: i + 1,
                date: i64::from(i),
                base: format!("S{i}"),
                reply: false,
                mid: Some(format!("{i}@x")),
                refs: (i.saturating_sub(3)..i).map(|j| format!("{j}@x")).collect(),
            })
            .collect();
        let f = references(&msgs(&o));
        assert_eq!(f.roots.len(), 1);
        assert_eq!(f.nodes.len(), n as usize);
        drop(f);
        let refs_many: Vec<String> = (0..10_000).map(|j| format!("{j}@g")).collect();
        let o = vec![Owned {
            id: 1,
            date: 0,
            base: String::new(),
            reply: false,
            mid: None,
            refs: refs_many,
        }];
        assert_eq!(show(&references(&msgs(&o))), "(1)");
    }
}
