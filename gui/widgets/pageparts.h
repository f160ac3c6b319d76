#pragma once

#include <QString>

class QLabel;
class QTableWidgetItem;
class QWidget;

// Small pieces every page builds the same way, so the pages look alike: the page title and a read-only table
// cell. Used by the pages under gui/pages and the live pages' widgets.
namespace PageParts {

// A bold label `scale` times the normal font size; 1.4 is a page's title.
QLabel *title(const QString &text, QWidget *parent, qreal scale = 1.4);
// A read-only, selectable cell with its text as tooltip (for elided text); numbers align right.
QTableWidgetItem *cell(const QString &text, bool number = false);

} // namespace PageParts
