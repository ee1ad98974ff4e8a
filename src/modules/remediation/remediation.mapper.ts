import type { CampaignView, ProgressRow } from './remediation.service';
import { RemediationCampaign, RemediationProgress } from './remediation.type';

export function toRemediationProgress(row: ProgressRow): RemediationProgress {
  return Object.assign(new RemediationProgress(), {
    channelId: row.channelId,
    flagged: row.flagged,
    corrected: row.corrected,
    remaining: row.remaining,
    checked: row.checked,
    remainingPolicyNos: row.remainingPolicyNos,
  });
}

export function toRemediationCampaign(view: CampaignView): RemediationCampaign {
  return Object.assign(new RemediationCampaign(), {
    id: view.campaign.id,
    insurerId: view.campaign.insurerId,
    issuedBefore: view.campaign.issuedBefore,
    deadline: view.campaign.deadline,
    createdAt: view.campaign.createdAt,
    progress: view.progress.map(toRemediationProgress),
    pastDeadline: view.pastDeadline,
    checked: view.checked,
  });
}
