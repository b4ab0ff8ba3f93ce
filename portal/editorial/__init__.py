"""The editorial back office: articles, news, notices, pages and campaign pages written and
published by staff in the browser, with revisions; the files in content/ are the first
revisions."""
