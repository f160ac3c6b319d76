#include "clientkey.h"

#include <QByteArray>
#include <QRandomGenerator>

namespace ClientKey {

QString generate()
{
    QByteArray bytes(24, Qt::Uninitialized);
    // QRandomGenerator::system() reads the operating system's cryptographically secure source.
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(bytes.data()),
                                         reinterpret_cast<quint32 *>(bytes.data() + bytes.size()));
    return QStringLiteral("sk-429chain-") +
           QString::fromLatin1(
               bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

} // namespace ClientKey
