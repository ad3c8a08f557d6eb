//! THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES over the
//! messages the search criteria match. The algorithms (and the Dovecot 2.3
//! choices they make) are in `tidemark_search::thread`; this handler feeds
//! them the per-message summaries and turns the result into `THREAD` data.

use crate::commands::search::evaluate;
use crate::commands::sort::with_summaries;
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Data, Response, SearchKey, Thread, ThreadAlgorithm, UidMode};
use tidemark_search::sortkeys::sort_date;
use tidemark_search::thread::{Forest, ThreadMsg, ordered_subject, references};

/// Nesting levels written out (each level is a parenthesised sibling list;
/// a chain of only children adds none). Deeper subtrees are written as
/// plain siblings at the last level, so encoding and dropping the response
/// never recurse deeper than this.
const MAX_NESTING: usize = 256;

pub(crate) async fn run(
    s: &mut Session,
    mode: UidMode,
    algorithm: ThreadAlgorithm,
    charset: String,
    search: SearchKey,
) -> CmdResult {
    let thread: fn(&[ThreadMsg<'_>]) -> Forest = match algorithm {
        ThreadAlgorithm::OrderedSubject => ordered_subject,
        ThreadAlgorithm::References => references,
        ThreadAlgorithm::Other(name) => {
            return Err(CommandError::bad(
                None,
                format!("Unknown thread algorithm {name}"),
            ));
        }
    };
    let hits = evaluate(s, Some(&charset), &search, true).await?;
    let rows = with_summaries(s, hits).await?;
    let msgs: Vec<ThreadMsg<'_>> = rows
        .iter()
        .map(|(h, sum)| ThreadMsg {
            id: match mode {
                UidMode::Uid => h.uid.0,
                UidMode::Sequence => h.seq,
            },
            date: sort_date(sum.sort_sent, h.meta.internal_date.unix),
            base_subject: &sum.base_subject,
            reply: sum.subject_reply,
            message_id: sum.message_id.as_deref(),
            // RFC 5256 3 (REFERENCES 1): In-Reply-To when References has no
            // valid identifier.
            references: if sum.references.is_empty() {
                sum.in_reply_to.as_slice()
            } else {
                &sum.references
            },
        })
        .collect();
    let forest = thread(&msgs);
    let threads = forest.roots.iter().map(|&r| wire(&forest, r, 0)).collect();
    s.send(Response::Data(Data::Thread(threads)));
    Ok(Done::ok("THREAD completed"))
}

/// The `thread-list` of the subtree at `i`: the chain of single children,
/// then the sub-threads of its last node.
fn wire(f: &Forest, mut i: usize, depth: usize) -> Thread {
    let mut t = Thread::default();
    loop {
        let n = &f.nodes[i];
        t.chain.extend(n.id);
        match n.children.as_slice() {
            [only] => i = *only,
            [] => break,
            many if depth < MAX_NESTING => {
                t.children = many.iter().map(|&c| wire(f, c, depth + 1)).collect();
                break;
            }
            many => {
                t.children = flatten(f, many);
                break;
            }
        }
    }
    t
}

/// Every message below `nodes`, in order, each as a thread of its own.
fn flatten(f: &Forest, nodes: &[usize]) -> Vec<Thread> {
    let mut out = Vec::new();
    let mut stack: Vec<usize> = nodes.iter().rev().copied().collect();
    while let Some(i) = stack.pop() {
        let n = &f.nodes[i];
        out.extend(n.id.map(|id| Thread {
            chain: vec![id],
            children: Vec::new(),
        }));
        stack.extend(n.children.iter().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_search::thread::ForestNode;

    fn node(id: Option<u32>, children: Vec<usize>) -> ForestNode {
        ForestNode { id, children }
    }

    fn encode(threads: Vec<Thread>) -> String {
        let r = Response::Data(Data::Thread(threads));
        let bytes = tidemark_imap_proto::encode::to_bytes(&r, &Default::default());
        String::from_utf8(bytes).expect("utf8")
    }

    #[test]
    fn wire_forms_match_rfc5256() {
        // (1 2 3): a chain; (4 (5)(6 7)): siblings; ((8)(9)): a dummy root.
        let f = Forest {
            nodes: vec![
                node(Some(1), vec![1]),
                node(Some(2), vec![2]),
                node(Some(3), vec![]),
                node(Some(4), vec![4, 5]),
                node(Some(5), vec![]),
                node(Some(6), vec![6]),
                node(Some(7), vec![]),
                node(None, vec![8, 9]),
                node(Some(8), vec![]),
                node(Some(9), vec![]),
            ],
            roots: vec![0, 3, 7],
        };
        let threads: Vec<Thread> = f.roots.iter().map(|&r| wire(&f, r, 0)).collect();
        assert_eq!(encode(threads), "* THREAD (1 2 3)(4 (5)(6 7))((8)(9))\r\n");
    }

    #[test]
    fn deep_nesting_is_capped() {
        // Level l: node a_l (index 2l) with children b_l (a leaf, 2l+1)
        // and a_{l+1}; 5000 levels deep. The last b is not referenced.
        let levels = 5000;
        let mut nodes = Vec::new();
        for l in 0..levels {
            let last = l + 1 == levels;
            let kids = if last {
                vec![]
            } else {
                vec![2 * l + 1, 2 * l + 2]
            };
            nodes.push(node(Some(2 * l as u32 + 1), kids));
            nodes.push(node(Some(2 * l as u32 + 2), vec![]));
        }
        let f = Forest {
            nodes,
            roots: vec![0],
        };
        let t = wire(&f, 0, 0);
        let text = encode(vec![t]);
        assert!(
            text.starts_with("* THREAD (1 (2)(3 (4)(5 "),
            "{}",
            &text[..40]
        );
        let ids = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty());
        assert_eq!(ids.count(), 2 * levels - 1);
    }
}
