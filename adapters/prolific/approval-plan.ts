import type { ParticipantRow } from '../../src/study/types.js';

/** Whether `study approve` would approve this participant's submission now. */
export function approvable(p: ParticipantRow): boolean {
  return (
    p.classification === 'complete' &&
    p.prolific?.status === 'AWAITING REVIEW' &&
    !p.prolific.approvedByStudyhook &&
    !several(p)
  );
}

/**
 * Why a participant with several submissions in the namespace is left to a person: one namespace
 * often serves every Prolific study of a workspace (a subscription covers the workspace), and the
 * webhook carries no study id, so the latest submission may belong to another study than the data
 * that makes the participant complete (and the earlier ones would never be looked at).
 */
function several(p: ParticipantRow): string | undefined {
  const n = p.prolific?.submissions ?? 0;
  return n > 1
    ? `${n} Prolific submissions in the namespace (another Prolific study's, or several waves): which one this study's data completes is not known; the latest is shown`
    : undefined;
}

/** One submission to approve, and why. */
export interface ApprovalItem {
  submission: string;
  participant: string;
  why: string;
}

/**
 * What `study approve` would do: approve the submissions that are AWAITING REVIEW and whose
 * participant is complete; list those awaiting review that are not (they are left for a person,
 * never rejected); count those it already approved.
 */
export interface ApprovalPlan {
  approve: ApprovalItem[];
  held: { submission: string; participant: string; classification: string; missing: string[] }[];
  alreadyApproved: number;
  /** Those it already approved (recorded) that the archive still has AWAITING REVIEW, with when it recorded each. */
  recorded: (ApprovalItem & { at: string | null })[];
}

export function approvalPlan(participants: readonly ParticipantRow[]): ApprovalPlan {
  const plan: ApprovalPlan = { approve: [], held: [], alreadyApproved: 0, recorded: [] };
  for (const p of participants) {
    const sub = p.prolific;
    if (!sub || sub.status !== 'AWAITING REVIEW') continue;
    if (sub.approvedByStudyhook) {
      plan.alreadyApproved += 1;
      // why: sent again (see RESEND_AFTER_MS) only while it would still be approved now.
      if (p.classification === 'complete' && !several(p))
        plan.recorded.push({
          submission: sub.submission,
          participant: p.participant,
          why: 'sent before and still AWAITING REVIEW on Prolific',
          at: sub.approvedAt ?? null,
        });
    } else if (approvable(p))
      plan.approve.push({
        submission: sub.submission,
        participant: p.participant,
        why: p.has.join('; ') || 'complete',
      });
    else {
      const why = p.classification === 'complete' ? several(p) : undefined;
      plan.held.push({
        submission: sub.submission,
        participant: p.participant,
        classification: p.classification,
        missing: why ? [why] : p.missing,
      });
    }
  }
  return plan;
}

/**
 * How long after studyhook recorded an approval a submission still AWAITING REVIEW is read from
 * Prolific again, and sent again if Prolific still has it so. why: bulk-approve is asynchronous
 * ("Bulk approve in progress"): its 200 does not say that each submission was approved (a wallet
 * short of funds, a submission Prolific skipped), and a record alone kept it from ever being sent
 * again, leaving the participant unpaid until Prolific's 21-day auto-approval. It is sent again
 * only while Prolific says it is AWAITING REVIEW (read right before), and the wait leaves Prolific
 * time to finish a bulk approval in progress.
 */
export const RESEND_AFTER_MS = 15 * 60_000;

/** The recorded approvals old enough to be looked at again. */
export function overdue(plan: ApprovalPlan, now: number): ApprovalItem[] {
  return plan.recorded.filter((r) => now - Date.parse(r.at ?? '') >= RESEND_AFTER_MS);
}
