"""``litcl report``: a self-contained HTML page with figures from a finished study's documents.

No database access here: :func:`write_report` takes the documents that
:func:`litcl_flows.store.report_data.load_report_data` fetched.
"""

from litcl_flows.report.html import ReportFiles, write_report

__all__ = ["ReportFiles", "write_report"]
