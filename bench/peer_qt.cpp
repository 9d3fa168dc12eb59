// SPDX-License-Identifier: MIT
// Qt's QSaveFile: writes a temporary file and renames it over the target on commit().
#include "peers.hpp"

#include <QByteArray>
#include <QSaveFile>
#include <QString>

namespace peers {

std::string qt_write(const char* path, const char* data, std::size_t size) {
    QSaveFile file(QString::fromLocal8Bit(path));
    if (!file.open(QIODevice::WriteOnly)) return file.errorString().toStdString();
    if (file.write(data, static_cast<qint64>(size)) != static_cast<qint64>(size)) {
        std::string what = file.errorString().toStdString();
        file.cancelWriting();
        return what;
    }
    if (!file.commit()) return file.errorString().toStdString();
    return {};
}

}  // namespace peers
