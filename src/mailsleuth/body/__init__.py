"""The body: links (unwrapped without fetching), opt-in safe link following, attachments."""
