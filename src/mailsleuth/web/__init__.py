"""The web app (``mailsleuth serve``): see mailsleuth.web.app."""
