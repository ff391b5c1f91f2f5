// Where a person looks at a release: the dashboard's release page under PUBLIC_URL. MR notes, commit
// statuses, `/canary status` and chat all link here; `/api/releases/<id>` answers 401 without a
// bearer token, so it is no place to send a browser.

/** `<publicUrl>/releases/<id>` (the dashboard's release page). */
export function releasePageUrl(publicUrl: string, releaseId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/releases/${encodeURIComponent(releaseId)}`;
}
