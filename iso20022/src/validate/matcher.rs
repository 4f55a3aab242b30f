//! The content-model matcher: for element-only content, a cursor over the slots of the type
//! (sequence positions, choices, wildcards). The ISO schemas are deterministic (each element
//! name picks one slot), so a forward search is exact and costs no allocation per element.

use crate::schema::{Slot, Term, TypeId};

/// Where the cursor is: slot index, chosen alternative and occurrences of it so far.
#[derive(Debug, Default)]
pub(super) struct Matcher {
    slot: usize,
    alternative: usize,
    count: u32,
}

/// What a child element turned out to be.
pub(super) enum Step {
    /// A declared element: validate it against `ty`. `missing` lists required slots skipped.
    Element {
        ty: TypeId,
        repeats: bool,
        missing: Vec<String>,
    },
    /// Matched a wildcard: its content is not validated.
    Wildcard { repeats: bool },
    /// Not allowed here; `expected` is a clause such as `; expected: GrpHdr`.
    Unexpected { expected: String },
}

fn describe(slot: &Slot) -> String {
    let names: Vec<String> = slot.alternatives.iter().map(|p| p.describe()).collect();
    names.join(" or ")
}

impl Matcher {
    /// The next child element, `local` in namespace `ns`; `in_target` is `ns == target`,
    /// computed by the caller once per namespace rather than once per element.
    pub(super) fn step(
        &mut self,
        slots: &[Slot],
        target: &str,
        in_target: bool,
        ns: &str,
        local: &str,
    ) -> Step {
        // Another occurrence of the current alternative?
        if self.count > 0
            && let Some(p) = slots
                .get(self.slot)
                .and_then(|s| s.alternatives.get(self.alternative))
            && p.matches_fast(in_target, target, ns, local)
            && self.count < p.max
        {
            self.count += 1;
            return self.result(p.max > 1, Vec::new(), &p.term);
        }
        let first = if self.count > 0 {
            self.slot + 1
        } else {
            self.slot
        };
        for (k, slot) in slots.iter().enumerate().skip(first) {
            let Some(alt) = slot
                .alternatives
                .iter()
                .position(|p| p.matches_fast(in_target, target, ns, local))
            else {
                continue;
            };
            let mut missing = Vec::new();
            if self.count > 0
                && let Some(p) = slots
                    .get(self.slot)
                    .and_then(|s| s.alternatives.get(self.alternative))
                && self.count < p.min
            {
                missing.push(p.describe());
            }
            for skipped in slots.iter().take(k).skip(first) {
                if skipped.required {
                    missing.push(describe(skipped));
                }
            }
            self.slot = k;
            self.alternative = alt;
            self.count = 1;
            let Some(p) = slot.alternatives.get(alt) else {
                break;
            };
            return self.result(p.max > 1, missing, &p.term);
        }
        let expected: Vec<String> = slots
            .iter()
            .skip(self.slot)
            .filter(|s| !s.alternatives.is_empty())
            .take(4)
            .map(describe)
            .collect();
        let expected = if expected.is_empty() {
            "; no more elements are allowed".to_owned()
        } else {
            format!("; expected one of: {}", expected.join(", "))
        };
        Step::Unexpected { expected }
    }

    fn result(&self, repeats: bool, missing: Vec<String>, term: &Term) -> Step {
        match term {
            Term::Element { ty, .. } => Step::Element {
                ty: *ty,
                repeats,
                missing,
            },
            Term::Any(_) => Step::Wildcard { repeats },
        }
    }

    /// The required slots not filled when the element ends.
    pub(super) fn missing_at_end(&self, slots: &[Slot]) -> Vec<String> {
        let mut missing = Vec::new();
        let mut from = self.slot;
        if self.count > 0 {
            if let Some(p) = slots
                .get(self.slot)
                .and_then(|s| s.alternatives.get(self.alternative))
                && self.count < p.min
            {
                missing.push(p.describe());
            }
            from += 1;
        }
        for slot in slots.iter().skip(from) {
            if slot.required {
                missing.push(describe(slot));
            }
        }
        missing
    }
}
