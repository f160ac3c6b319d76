#pragma once

#include <QWidget>

class ChainEntriesModel;
class EntryPicker;
class QLabel;
class QListWidget;
class QPushButton;
class QTableView;
class ServiceBridge;
class StatusBanner;
struct ChainEntry;

// The Chains page: the chains (the default one marked in words) and the entries of the selected one, in the
// order they are tried. Entries move by drag and drop or with Move up / Move down (Ctrl+Up / Ctrl+Down), are
// added (provider + a model typed or picked from the provider's list) and removed; chains are created,
// renamed, made the default and deleted. Each change goes to the core through the bridge at once; when the
// core refuses, the page shows its message and goes back to what the config says.
class ChainsPage : public QWidget
{
    Q_OBJECT

public:
    explicit ChainsPage(ServiceBridge *bridge, QWidget *parent = nullptr);

public slots:
    void newChain();
    void renameSelected();
    void makeSelectedDefault();
    void deleteSelected();
    void moveUp();
    void moveDown();
    void removeEntry();
    void addEntry();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void reload();
    void showChain(const QString &name);
    void updateButtons();
    QString selectedChain() const;
    int selectedRow() const;
    void selectRow(int row);
    void moveBy(int delta);
    // Saves `entries` as the chain's; `rowAfter` is selected once the config has them.
    void saveEntries(const QList<ChainEntry> &entries, const QString &what, int rowAfter);
    void onResult(const QString &chainToShow, int rowAfter, bool ok, const QString &text);

    ServiceBridge *m_bridge;
    StatusBanner *m_banner;
    QListWidget *m_chains;
    QPushButton *m_new;
    QPushButton *m_rename;
    QPushButton *m_default;
    QPushButton *m_deleteChain;
    QLabel *m_chainTitle;
    QLabel *m_chainNote;
    QTableView *m_entries;
    ChainEntriesModel *m_model;
    QPushButton *m_up;
    QPushButton *m_down;
    QPushButton *m_remove;
    EntryPicker *m_picker;
    QPushButton *m_add;
    QString m_shownChain;
    bool m_reloading = false;
};
