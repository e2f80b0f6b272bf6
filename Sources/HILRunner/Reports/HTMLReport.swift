import Foundation

/// `report.html`: one self-contained page (inline CSS and a few lines of inline JavaScript, nothing fetched) with the
/// run's header, the matrix (rows = scenarios, columns = boards, each cell coloured by its classification) and each
/// cell's evidence one click away.
///
/// The page is also machine-readable: every matrix cell is `<td id="cell-<board>-<scenario>" data-board=…
/// data-scenario=… data-classification=… data-type=… data-flaky=…>` (the anchor `ReportText.anchors` gives), and its
/// evidence is `<details id="evidence-<anchor>">`. Opening `report.html#<anchor>` (the JUnit attachment) highlights the
/// cell and opens and shows its evidence.
public enum HTMLReport {
    /// Short labels and colours per classification, as the matrix and the legend show them.
    public static func label(_ classification: Cell.Classification) -> String {
        switch classification {
        case .pass: "pass"
        case .knownDeviceGap: "known gap"
        case .productFailure: "FAIL"
        case .fidelityFinding: "twin ≠ device"
        case .rigError: "rig error"
        case .notRun: "not run"
        }
    }

    /// The background colour of a classification's cells (`#rrggbb`).
    public static func colour(_ classification: Cell.Classification) -> String {
        switch classification {
        case .pass: "#b9e4bd"
        case .knownDeviceGap: "#fbe7a1"
        case .productFailure: "#f29b9b"
        case .fidelityFinding: "#cfa6e8"
        case .rigError: "#f9c48a"
        case .notRun: "#dddddd"
        }
    }

    /// The page for `report`.
    public static func render(_ report: RunReport) -> String {
        let anchors = ReportText.anchors(report)
        var html = Page()
        html.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        html.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        html.raw("<meta name=\"generator\" content=\"otarig \(ReportText.escapedAttribute(report.otarigVersion))\">\n")
        html.raw("<title>otarig run: \(ReportText.escapedText(report.plan))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n")
        header(report, into: &html)
        matrix(report, anchors: anchors, into: &html)
        evidence(report, anchors: anchors, into: &html)
        html.raw("<script>\n\(script)</script>\n</body>\n</html>\n")
        return html.text
    }

    // MARK: the parts

    private static func header(_ report: RunReport, into html: inout Page) {
        html.raw("<header>\n<h1>otarig run <span class=\"plan\">\(ReportText.escapedText(report.plan))</span></h1>\n")
        if report.interrupted {
            html.raw("<p class=\"banner\" id=\"interrupted\" role=\"alert\">Interrupted: the run was stopped before it finished; cells it did not reach are <b>not run</b>.</p>\n")
        }
        html.raw("<dl class=\"facts\">\n")
        var facts: [(String, String)] = []
        if let file = report.planFile { facts.append(("plan file", file)) }
        facts += [
            ("started", ReportText.timestamp(report.startedAt)),
            ("finished", ReportText.timestamp(report.finishedAt)),
            ("duration", ReportText.seconds(report.finishedAt.timeIntervalSince(report.startedAt)) + " s"),
            ("device clock", ReportText.timestamp(report.deviceClock)),
            ("signer", report.signer),
            ("otarig", report.otarigVersion),
            ("boards × scenarios", "\(report.boards.count) × \(report.scenarios.count), \(report.cells.count) cells"),
        ]
        for (name, value) in facts {
            html.raw("<dt>\(ReportText.escapedText(name))</dt><dd>\(ReportText.escapedText(value))</dd>\n")
        }
        html.raw("</dl>\n<ul class=\"counts\" id=\"counts\">\n")
        let counts = report.counts
        for classification in Cell.Classification.allCases {
            let count = counts[classification, default: 0]
            html.raw("<li class=\"c-\(classification.rawValue)\" data-classification=\"\(classification.rawValue)\" data-count=\"\(count)\">"
                     + "<b>\(count)</b> \(ReportText.escapedText(label(classification)))</li>\n")
        }
        let flaky = report.cells.filter { $0.flakyFailure != nil }.count
        if flaky > 0 {
            html.raw("<li class=\"flaky\" data-flaky-count=\"\(flaky)\"><b>\(flaky)</b> ↻ gave a verdict after a rig fault</li>\n")
        }
        html.raw("</ul>\n</header>\n")
    }

    private static func matrix(_ report: RunReport, anchors: [CellKey: String], into html: inout Page) {
        var scenarioNames = report.scenarios.map(\.name)
        for cell in report.cells where !scenarioNames.contains(cell.scenario) { scenarioNames.append(cell.scenario) }
        let summaries = Dictionary(report.scenarios.map { ($0.name, $0.summary) }, uniquingKeysWith: { first, _ in first })
        var cells: [CellKey: Cell] = [:]
        for cell in report.cells where cells[CellKey(board: cell.board, scenario: cell.scenario)] == nil {
            cells[CellKey(board: cell.board, scenario: cell.scenario)] = cell
        }

        html.raw("<main>\n<h2>Matrix</h2>\n<table class=\"matrix\" id=\"matrix\">\n<thead>\n<tr><th scope=\"col\">scenario</th>")
        for board in report.boards {
            html.raw("<th scope=\"col\" data-board=\"\(ReportText.escapedAttribute(board.id))\">\(ReportText.escapedText(board.id))"
                     + "<small>\(ReportText.escapedText("\(board.chip) · \(board.pal)"))\(board.enforces.isEmpty ? "" : "<br>enforces " + ReportText.escapedText(board.enforces.joined(separator: ", ")))\(board.healthy ? "" : " · unhealthy")</small></th>")
        }
        html.raw("</tr>\n</thead>\n<tbody>\n")
        for scenario in scenarioNames {
            html.raw("<tr data-scenario=\"\(ReportText.escapedAttribute(scenario))\"><th scope=\"row\" title=\"\(ReportText.escapedAttribute(summaries[scenario] ?? ""))\">"
                     + "\(ReportText.escapedText(scenario))</th>")
            for board in report.boards {
                guard let cell = cells[CellKey(board: board.id, scenario: scenario)], let anchor = anchors[CellKey(board: board.id, scenario: scenario)] else {
                    html.raw("<td class=\"c-none\" data-board=\"\(ReportText.escapedAttribute(board.id))\" data-scenario=\"\(ReportText.escapedAttribute(scenario))\">—</td>")
                    continue
                }
                let c = cell.classification.rawValue
                html.raw("<td id=\"\(anchor)\" class=\"c-\(c)\" data-board=\"\(ReportText.escapedAttribute(cell.board))\" data-scenario=\"\(ReportText.escapedAttribute(cell.scenario))\""
                         + " data-classification=\"\(c)\" data-type=\"\(ReportText.escapedAttribute(cell.reportType ?? ""))\" data-flaky=\"\(cell.flakyFailure != nil)\""
                         + " title=\"\(ReportText.escapedAttribute(cell.message))\">"
                         + "<a href=\"#evidence-\(anchor)\">\(ReportText.escapedText(label(cell.classification)))\(cell.flakyFailure != nil ? " <span class=\"flaky\" title=\"gave a verdict after a rig fault\">↻</span>" : "")"
                         + "\(cell.reportType.map { "<small>\(ReportText.escapedText($0))</small>" } ?? "")</a></td>")
            }
            html.raw("</tr>\n")
        }
        html.raw("</tbody>\n</table>\n<p class=\"legend\">")
        for classification in Cell.Classification.allCases {
            html.raw("<span class=\"c-\(classification.rawValue)\">\(ReportText.escapedText(label(classification)))</span> ")
        }
        html.raw("<span>↻ gave its verdict on a later attempt, after a rig fault</span></p>\n</main>\n")
    }

    private static func evidence(_ report: RunReport, anchors: [CellKey: String], into html: inout Page) {
        let scenarios = Dictionary(report.scenarios.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        html.raw("<section id=\"evidence\">\n<h2>Evidence</h2>\n")
        var seen: Set<CellKey> = []
        for cell in report.cells {
            let key = CellKey(board: cell.board, scenario: cell.scenario)
            guard let anchor = anchors[key], seen.insert(key).inserted else { continue }
            let c = cell.classification.rawValue
            html.raw("<details id=\"evidence-\(anchor)\" class=\"evidence\" data-board=\"\(ReportText.escapedAttribute(cell.board))\" data-scenario=\"\(ReportText.escapedAttribute(cell.scenario))\" data-classification=\"\(c)\">\n")
            html.raw("<summary><span class=\"tag c-\(c)\">\(ReportText.escapedText(label(cell.classification)))</span> <b>\(ReportText.escapedText(cell.board))</b> × <b>\(ReportText.escapedText(cell.scenario))</b>: \(ReportText.escapedText(cell.message))</summary>\n<div class=\"body\">\n")
            html.raw("<p><a href=\"#\(anchor)\">back to the matrix</a>\(cell.reportType.map { " · type <code>\(ReportText.escapedText($0))</code>" } ?? "") · \(cell.attempts) attempt\(cell.attempts == 1 ? "" : "s") · \(ReportText.seconds(cell.seconds)) s</p>\n")
            if let flaky = cell.flakyFailure {
                html.raw("<p class=\"note\">↻ An earlier attempt failed in the rig (\(ReportText.escapedText(flaky))); a later one gave this verdict.</p>\n")
            }

            html.raw("<h3>Expectation</h3>\n<p>device: <b>\(ReportText.escapedText(cell.expected.device))</b>")
            html.raw(cell.expected.policyFailures.isEmpty ? "; policy passes" : "; policy fails <b>\(ReportText.escapedText(cell.expected.policyFailures.joined(separator: ", ")))</b>")
            html.raw(cell.expected.enforcedByDevice ? " (the board's firmware enforces it)" : "")
            html.raw("</p>\n")
            if let scenario = scenarios[cell.scenario] {
                html.raw("<p class=\"basis\">\(ReportText.escapedText(scenario.summary)). Basis: \(ReportText.escapedText(scenario.basis))</p>\n")
            }

            html.raw("<h3>Device</h3>\n<p>verdict: <b>\(ReportText.escapedText(cell.device?.reportText ?? "no verdict"))</b>")
            if let evidence = cell.device?.evidence { html.raw(" from <code>\(ReportText.escapedText(evidence))</code>") }
            html.raw("</p>\n")
            statuses(cell.device?.statuses ?? [], into: &html)
            console(cell.console, empty: "the board printed nothing", into: &html)

            html.raw("<h3>Twin</h3>\n")
            if let twin = cell.twin {
                html.raw("<p>prediction: <b>\(ReportText.escapedText(twin.reportText))</b></p>\n")
                statuses(twin.statuses, into: &html)
                console(cell.twinConsole, empty: "the twin logged nothing", into: &html)
            } else {
                html.raw("<p>not asked (no device verdict to compare)</p>\n")
            }

            html.raw("<h3>Policy</h3>\n")
            if cell.policy.isEmpty {
                html.raw("<p>no findings</p>\n")
            } else {
                html.raw("<table class=\"policy\"><tr><th>check</th><th>result</th><th>detail</th></tr>\n")
                for finding in cell.policy {
                    html.raw("<tr class=\"p-\(ReportText.escapedAttribute(finding.result))\"><td>\(ReportText.escapedText(finding.check))</td><td>\(ReportText.escapedText(finding.result))</td><td>\(ReportText.escapedText(finding.detail))</td></tr>\n")
                }
                html.raw("</table>\n")
            }

            html.raw("<h3>Provenance</h3>\n")
            let rows = JUnitReport.caseProperties(cell).filter { !["otarig.classification", "otarig.type", "otarig.expected", "otarig.expected-policy-failures", "otarig.device-verdict", "otarig.twin-verdict", "otarig.attempts"].contains($0.0) }
            if rows.isEmpty {
                html.raw("<p>none recorded</p>\n")
            } else {
                html.raw("<dl class=\"provenance\">\n")
                for (name, value) in rows {
                    html.raw("<dt>\(ReportText.escapedText(String(name.dropFirst("otarig.".count))))</dt><dd><code>\(ReportText.escapedText(value))</code></dd>\n")
                }
                html.raw("</dl>\n")
            }

            if let explanation = cell.explanation, !explanation.isEmpty {
                html.raw("<h3>Explanation</h3>\n")
                console(explanation, empty: "", into: &html)
            }
            html.raw("</div>\n</details>\n")
        }
        html.raw("</section>\n")
    }

    private static func statuses(_ statuses: [String], into html: inout Page) {
        guard !statuses.isEmpty else { return }
        html.raw("<ol class=\"statuses\">")
        for status in statuses { html.raw("<li><code>\(ReportText.escapedText(status))</code></li>") }
        html.raw("</ol>\n")
    }

    private static func console(_ lines: [String], empty: String, into html: inout Page) {
        if lines.isEmpty {
            html.raw("<p class=\"empty\">\(ReportText.escapedText(empty))</p>\n")
        } else {
            html.raw("<pre class=\"console\">\(ReportText.escapedText(lines.joined(separator: "\n")))</pre>\n")
        }
    }

    /// The page being built; every dynamic string reaches it through `ReportText`'s escaping.
    private struct Page {
        var text = ""
        mutating func raw(_ markup: String) { text += markup }
    }

    // MARK: style and behaviour

    private static var css: String {
        var css = """
            body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 1.5em; color: #1d1d1f; background: #ffffff; }
            h1 { font-size: 1.5em; margin: 0 0 .4em; } h1 .plan { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
            h2 { font-size: 1.2em; margin: 1.4em 0 .5em; } h3 { font-size: 1em; margin: 1em 0 .3em; }
            .banner { background: #b00020; color: #ffffff; padding: .6em 1em; font-weight: bold; border-radius: 4px; }
            dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; margin: .5em 0; }
            dl.facts dt, dl.provenance dt { color: #555555; } dl.facts dd, dl.provenance dd { margin: 0; }
            dl.provenance { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; word-break: break-all; }
            ul.counts { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4em; }
            ul.counts li { padding: .3em .7em; border-radius: 4px; border: 1px solid #00000022; }
            table.matrix { border-collapse: collapse; }
            table.matrix th, table.matrix td { border: 1px solid #ffffff; padding: .35em .6em; text-align: center; min-width: 7em; }
            table.matrix thead th { background: #f0f0f0; vertical-align: bottom; }
            table.matrix tbody th { background: #f0f0f0; text-align: left; font-weight: normal; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
            table.matrix small, ul small { display: block; font-size: .75em; color: #444444; font-weight: normal; }
            table.matrix td a { color: inherit; text-decoration: none; display: block; }
            table.matrix td:target { outline: 3px solid #1a4fd8; outline-offset: -3px; }
            .c-none { background: #ffffff; color: #999999; }
            .legend span { display: inline-block; padding: .1em .5em; margin: .1em; border-radius: 3px; }
            details.evidence { border: 1px solid #cccccc; border-radius: 4px; margin: .4em 0; }
            details.evidence > summary { cursor: pointer; padding: .4em .6em; }
            details.evidence:target, details.evidence[open] { border-color: #1a4fd8; }
            details.evidence .body { padding: 0 1em 1em; }
            .tag { padding: .1em .5em; border-radius: 3px; }
            pre.console { background: #1e1e1e; color: #e8e8e8; padding: .6em; overflow-x: auto; font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; word-break: break-all; }
            table.policy { border-collapse: collapse; } table.policy td, table.policy th { border: 1px solid #dddddd; padding: .2em .5em; text-align: left; }
            tr.p-fail td { background: #fde2e2; }
            .note { color: #7a4b00; } .basis { color: #555555; } .empty { color: #777777; font-style: italic; }
            .flaky { font-weight: bold; }

            """
        for classification in Cell.Classification.allCases {
            css += ".c-\(classification.rawValue) { background: \(colour(classification)); }\n"
        }
        return css
    }

    /// Opens the evidence a fragment names (`#cell-…` or `#evidence-…`), on load and when the fragment changes.
    private static let script = """
        (function () {
          function show() {
            var id = decodeURIComponent(location.hash.slice(1));
            if (!id) return;
            var details = document.getElementById(id.indexOf('cell-') === 0 ? 'evidence-' + id : id);
            if (details && details.tagName === 'DETAILS') {
              details.open = true;
              if (id.indexOf('cell-') === 0) details.scrollIntoView();
            }
          }
          window.addEventListener('hashchange', show);
          show();
        })();

        """
}
