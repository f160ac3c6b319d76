#include "envexpander.h"

#include <algorithm>

namespace {

bool isNameStart(QChar c)
{
    return (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
           (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || c == QLatin1Char('_');
}

bool isNameChar(QChar c)
{
    return isNameStart(c) || (c >= QLatin1Char('0') && c <= QLatin1Char('9'));
}

} // namespace

EnvExpander::Result EnvExpander::expand(const QString &text, const Lookup &env)
{
    Result result;
    if (!containsReference(text)) {
        result.value = text;
        return result;
    }
    const QStringView view(text);
    QString &out = result.value;
    out.reserve(text.size());
    int i = 0;
    while (i < text.size()) {
        if (view.mid(i).startsWith(QLatin1String("$${"))) {
            out += QLatin1String("${");
            i += 3;
            continue;
        }
        if (!view.mid(i).startsWith(QLatin1String("${"))) {
            out += text.at(i++);
            continue;
        }
        const int close = text.indexOf(QLatin1Char('}'), i + 2);
        if (close < 0) {
            result.errors << tr("unterminated \"${\" (write \"$${\" for a literal \"${\")");
            out += text.mid(i);
            break;
        }
        const QString inner = text.mid(i + 2, close - i - 2);
        const int sep = inner.indexOf(QLatin1String(":-"));
        const QString name = sep < 0 ? inner : inner.left(sep);
        const bool nameOk =
            !name.isEmpty() && isNameStart(name.at(0)) && std::all_of(name.begin(), name.end(), isNameChar);
        if (!nameOk) {
            result.errors << tr("\"${%1}\" is not a valid environment variable reference").arg(inner);
        } else {
            const std::optional<QString> value = env ? env(name) : std::nullopt;
            if (sep >= 0) {
                out += (value && !value->isEmpty()) ? *value : inner.mid(sep + 2);
            } else if (value) {
                out += *value;
            } else {
                result.errors
                    << tr("environment variable %1 is not set (write ${%1:-default} to give a default)")
                           .arg(name);
            }
        }
        i = close + 1;
    }
    return result;
}
