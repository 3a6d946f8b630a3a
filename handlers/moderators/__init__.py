"""What moderators use: announcements, the queue and bans, invites, triage, /status, figures,
the audit log, revoking a role and what routing learned."""
