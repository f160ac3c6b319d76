#include "errorformats.h"

#include "anthropicerror.h"
#include "openaierror.h"

namespace {

struct ErrorFormat
{
    const char *prefix; // the path itself or any path under it
    QByteArray (*json)(const ApiError &error);
};

constexpr ErrorFormat kFormats[] = {
    {"/v1/messages", &AnthropicError::json},
};

bool under(const QString &path, const char *prefix)
{
    const QLatin1String p(prefix);
    return path.startsWith(p) && (path.size() == p.size() || path.at(p.size()) == QLatin1Char('/'));
}

} // namespace

namespace ErrorFormats {

QByteArray json(const QString &path, const ApiError &error)
{
    for (const auto &format : kFormats) {
        if (under(path, format.prefix))
            return format.json(error);
    }
    return OpenAiError::json(error);
}

} // namespace ErrorFormats
